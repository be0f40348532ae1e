package web_test

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/logbuf"
	"github.com/recordusage/recordusage/web"
)

// TestQueryServiceServesChart builds cmd/query and checks that the real binary serves the
// chart, so that the mount in its main (api.ServerConfig.Pages) is tested too. The service
// needs no broker for that: the pages are up while it still waits for the results topic.
func TestQueryServiceServesChart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/query")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "query")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/recordusage/recordusage/cmd/query").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--insecure-no-auth", "--brokers", "127.0.0.1:1", "--http", addr)
	var logs logbuf.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()

	client := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://" + addr
	var resp *http.Response
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err = client.Get(base + web.Prefix)
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "query did not serve %s: %v\nlogs:\n%s", web.Prefix, err, logs.String())
		time.Sleep(50 * time.Millisecond)
	}
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "logs:\n%s", logs.String())
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, web.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
	require.NotEmpty(t, resp.Header.Get("X-Request-Id"))

	resp, err = client.Get(base + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "chart/", resp.Header.Get("Location"))

	// The API beside it still answers (503 until the results topic is read).
	resp, err = client.Get(base + "/v2/p1/stats/record")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, strconv.Itoa(resp.StatusCode))
}
