package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// fakeGatewayEnv, set in the environment, makes the test binary serve the
// fake gateway on the --addr of its arguments instead of running tests:
// the stand-in for the gateway binary that -gw starts.
const fakeGatewayEnv = "GATEWAY_LOAD_TEST_FAKE_GATEWAY"

func TestMain(m *testing.M) {
	if os.Getenv(fakeGatewayEnv) != "" {
		serveFakeGateway(os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

// serveFakeGateway serves fakeGateway on the address after --addr in args
// until the process is killed.
func serveFakeGateway(args []string) {
	i := slices.Index(args, "--addr")
	if i < 0 || i+1 >= len(args) {
		os.Exit(2)
	}
	f := &fakeGateway{hooks: make(map[string]fakeHook)}
	_ = (&http.Server{Addr: args[i+1], Handler: f, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe()
	os.Exit(1)
}

// TestRunPending_gw runs -mode pending -gw with the test binary standing
// in for the gateway: the tool starts it, waits for /readyz, kills it with
// SIGKILL once every delivery exists, restarts it and reports the restart.
func TestRunPending_gw(t *testing.T) {
	t.Setenv(fakeGatewayEnv, "1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, err := parseFlags([]string{"-mode", "pending", "-url", "http://" + addr, "-n", "50", "-batch", "20", "-c", "2",
		"-slow", "1ms", "-settle", "0s", "-gw", os.Args[0], "-config", os.DevNull}, io.Discard)
	require.NoError(t, err)
	res, err := runPending(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, int64(50), res.Events)
	require.True(t, res.Created != nil && res.Created.VmRSS > 0, "no memory reading: %+v", res)
	x := res.Restart
	require.True(t, x != nil && x.ReadyS > 0 && x.Ready != nil && x.Ready.VmRSS > 0 && x.Settled != nil, "restart figures: %+v", x)
	var out bytes.Buffer
	res.writeText(&out)
	require.Contains(t, out.String(), "ready after ")
	require.Contains(t, out.String(), "memory ready  VmRSS")
	require.Contains(t, out.String(), "memory later  VmRSS")
}

// TestGatewayProc_exits checks that a gateway that exits before it is
// ready is reported at once, not after readyLimit.
func TestGatewayProc_exits(t *testing.T) {
	c := config{URL: "http://127.0.0.1:1", GW: "/bin/false", GWConfig: os.DevNull}
	g, err := newGatewayProc(c)
	require.NoError(t, err)
	defer g.close()
	_, err = g.start(t.Context())
	require.ErrorIs(t, err, errExited)
}
