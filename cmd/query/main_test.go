package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func TestRefusesToStartWithoutCredentials(t *testing.T) {
	err := run([]string{"--brokers", "127.0.0.1:1"})
	require.ErrorContains(t, err, "refusing to start without authentication")
	err = run([]string{"--credentials", "x.json", "--insecure-no-auth"})
	require.ErrorContains(t, err, "exclude each other")
	err = run([]string{"--credentials", filepath.Join(t.TempDir(), "missing.json")})
	require.ErrorContains(t, err, "credentials")
	err = run([]string{"--insecure-no-auth", "--max-span", "10m"})
	require.ErrorContains(t, err, "at least 1h")
}

func TestDaysFlag(t *testing.T) {
	var d days
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&d, "span", "")
	require.NoError(t, fs.Parse([]string{"--span", "31d"}))
	require.Equal(t, 744*time.Hour, time.Duration(d))
	require.Equal(t, "31d", d.String())
	require.NoError(t, fs.Parse([]string{"--span", "36h"}))
	require.Equal(t, 36*time.Hour, time.Duration(d))
	require.Error(t, fs.Parse([]string{"--span", "3x"}))
	require.Error(t, fs.Parse([]string{"--span", "-1d"}))
}

func TestSIGHUPReloadsCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	write := func(s string) { require.NoError(t, os.WriteFile(path, []byte(s), 0o600)) }
	write(`{"tokens":[{"token":"t1","project_id":"p"}]}`)
	_, store, err := authenticator(path, false, discard())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	reloaded := make(chan struct{})
	reload := reloader(store, path, nil, discard())
	done := reloadOnSIGHUP(ctx, func() { reload(); reloaded <- struct{}{} })
	defer func() { cancel(); <-done }()

	// hup sends SIGHUP to this process and waits until the handler has run the reload: a test
	// that passed without the handler running would prove nothing.
	hup := func() {
		t.Helper()
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
		select {
		case <-reloaded:
		case <-time.After(10 * time.Second):
			t.Fatal("SIGHUP did not run the reload")
		}
	}
	write(`{"tokens":[{"token":"t1","project_id":"p"},{"token":"t2","project_id":"*"}]}`)
	hup()
	n, _ := store.Len()
	require.Equal(t, 2, n, "reloaded")
	// A broken file keeps the credentials in force.
	write(`{"tokens":[{"token":"t1","project_id":"p"}],"typo":1}`)
	hup()
	n, _ = store.Len()
	require.Equal(t, 2, n, "a broken file is refused")
}
