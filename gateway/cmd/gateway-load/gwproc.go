package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// readyLimit bounds the wait for a gateway this tool started to become
// ready. It is a hang guard: the time it took is what gets reported.
const readyLimit = 10 * time.Minute

// gatewayProc is the gateway that -mode pending -gw runs itself: "GW serve
// --config GWConfig --data GWData --addr <host:port of -url>", with its
// stdout and stderr appended to GWLog. Its methods are called from one
// goroutine.
type gatewayProc struct {
	args     []string
	readyURL string
	data     string
	tmp      bool     // data is a temporary directory, removed by close
	log      *os.File // nil: output discarded

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

func newGatewayProc(c config) (*gatewayProc, error) {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("-gw: -url %q has no host:port to pass as --addr", c.URL)
	}
	g := &gatewayProc{readyURL: c.URL + "/readyz", data: c.GWData}
	if g.data == "" {
		if g.data, err = os.MkdirTemp("", "gateway-load-data-"); err != nil {
			return nil, err
		}
		g.tmp = true
	}
	if c.GWLog != "" {
		if g.log, err = os.OpenFile(c.GWLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			g.close()
			return nil, err
		}
	}
	g.args = []string{c.GW, "serve", "--config", c.GWConfig, "--data", g.data, "--addr", u.Host}
	return g, nil
}

// start starts the gateway and waits until GET /readyz answers 200. It
// returns how long that took from the start of the process.
func (g *gatewayProc) start(ctx context.Context) (time.Duration, error) {
	cmd := exec.Command(g.args[0], g.args[1:]...)
	if g.log != nil {
		cmd.Stdout, cmd.Stderr = g.log, g.log
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	g.cmd, g.done = cmd, make(chan struct{})
	done := g.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	if err := waitReady(ctx, g.readyURL, readyLimit, done); err != nil {
		return 0, fmt.Errorf("%q: %w", g.args, err)
	}
	return time.Since(t0), nil
}

func (g *gatewayProc) pid() int { return g.cmd.Process.Pid }

// kill sends SIGKILL and waits for the process to go.
func (g *gatewayProc) kill() {
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Kill()
	<-g.done
	g.cmd = nil
}

// close stops the gateway (SIGTERM, SIGKILL after shutdownLimit), closes
// the log and removes a temporary data directory.
func (g *gatewayProc) close() {
	const shutdownLimit = time.Minute
	if g.cmd != nil {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.done:
		case <-time.After(shutdownLimit):
			g.kill()
		}
		g.cmd = nil
	}
	if g.log != nil {
		_ = g.log.Close()
	}
	if g.tmp {
		_ = os.RemoveAll(g.data)
	}
}

// errExited is waitReady's answer when the process it waits for exits.
var errExited = errors.New("the process exited")
