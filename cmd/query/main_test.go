package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
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
	// Catch SIGHUP in the test too, so that a signal sent before reloadOnSIGHUP registered its
	// handler does not take the default action (terminating the test binary).
	sink := make(chan os.Signal, 64)
	signal.Notify(sink, syscall.SIGHUP)
	defer signal.Stop(sink)
	path := filepath.Join(t.TempDir(), "credentials.json")
	write := func(s string) { require.NoError(t, os.WriteFile(path, []byte(s), 0o600)) }
	write(`{"tokens":[{"token":"t1","project_id":"p"}]}`)
	_, store, err := authenticator(path, false, discard())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { reloadOnSIGHUP(ctx, reloader(store, path, nil, discard())); close(done) }()
	defer func() { cancel(); <-done }()

	waitTokens := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			// Each round re-sends the signal: reloadOnSIGHUP may not have registered yet.
			require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
			if n, _ := store.Len(); n == want {
				return
			}
			require.True(t, time.Now().Before(deadline), "credentials not reloaded")
			time.Sleep(10 * time.Millisecond)
		}
	}
	write(`{"tokens":[{"token":"t1","project_id":"p"},{"token":"t2","project_id":"*"}]}`)
	waitTokens(2)
	// A broken file keeps the credentials in force.
	write(`{"tokens":[{"token":"t1","project_id":"p"}],"typo":1}`)
	for range 5 {
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
		time.Sleep(10 * time.Millisecond)
	}
	n, _ := store.Len()
	require.Equal(t, 2, n)
}
