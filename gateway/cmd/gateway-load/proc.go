package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// procMem is a process's memory as /proc/<pid>/status reports it, in KiB.
type procMem struct {
	VmRSS   int64 `json:"vmrss_kib"`
	VmHWM   int64 `json:"vmhwm_kib"`
	RssAnon int64 `json:"rss_anon_kib"`
	RssFile int64 `json:"rss_file_kib"`
}

func (m procMem) String() string {
	mib := func(k int64) float64 { return float64(k) / 1024 }
	return fmt.Sprintf("VmRSS %.0f MiB (anon %.0f, file %.0f), VmHWM %.0f MiB", mib(m.VmRSS), mib(m.RssAnon), mib(m.RssFile), mib(m.VmHWM))
}

// readProcMem reads the memory lines of /proc/<pid>/status.
func readProcMem(pid int) (procMem, error) {
	var m procMem
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	fields := map[string]*int64{"VmRSS:": &m.VmRSS, "VmHWM:": &m.VmHWM, "RssAnon:": &m.RssAnon, "RssFile:": &m.RssFile}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 {
			if p := fields[f[0]]; p != nil {
				*p, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return m, sc.Err()
}

// clockTicks is USER_HZ, the unit of /proc CPU times; 100 on every Linux
// platform Go supports.
const clockTicks = 100

// procTicks returns the CPU time (user + system) a process has used, in
// clock ticks; path is /proc/<pid>/stat or /proc/self/stat.
func procTicks(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	// The command name, field 2, may hold spaces; count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	s, err2 := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	return u + s, err1 == nil && err2 == nil
}

// machineTicks returns the busy ticks of the whole machine from /proc/stat.
func machineTicks() (int64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return busy, true
}

// cpuUse is the CPU used during a measured window, in % of one core.
type cpuUse struct {
	Gateway float64 `json:"gateway_pct,omitempty"`
	Tool    float64 `json:"load_tool_pct"`
	Other   float64 `json:"everything_else_pct"`
	Cores   int     `json:"cores"`
}

func (c *cpuUse) String() string {
	return fmt.Sprintf("gateway %.0f%%  load tool (publishers and receiver) %.0f%%  everything else %.0f%%  (%% of one core; %d cores)", c.Gateway, c.Tool, c.Other, c.Cores)
}

// cpuSampler measures CPU use between begin and end. Without /proc it
// reports nothing.
type cpuSampler struct {
	at                time.Time
	gw, self, machine int64
	ok                bool
}

func (s *cpuSampler) begin(pid int) {
	s.at = time.Now()
	var ok1, ok2, ok3 bool
	s.self, ok1 = procTicks("/proc/self/stat")
	s.machine, ok2 = machineTicks()
	ok3 = true
	if pid > 0 {
		s.gw, ok3 = procTicks(fmt.Sprintf("/proc/%d/stat", pid))
	}
	s.ok = ok1 && ok2 && ok3
}

func (s *cpuSampler) end(pid int) *cpuUse {
	if !s.ok {
		return nil
	}
	secs := time.Since(s.at).Seconds()
	self, _ := procTicks("/proc/self/stat")
	machine, _ := machineTicks()
	var gw int64
	if pid > 0 {
		gw, _ = procTicks(fmt.Sprintf("/proc/%d/stat", pid))
	}
	pct := func(ticks int64) float64 { return 100 * float64(ticks) / clockTicks / secs }
	u := &cpuUse{Gateway: pct(gw - s.gw), Tool: pct(self - s.self), Cores: runtime.NumCPU()}
	u.Other = max(0, pct(machine-s.machine)-u.Gateway-u.Tool)
	return u
}
