package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/event"
)

func TestBackfillToFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.ndjson")
	t.Setenv("RECORD_CHANNELS", "300") // flags may come from the environment
	err := run(context.Background(), []string{"--from", "2h", "--projects", "20", "--out", out, "--quiet"},
		io.Discard, io.Discard)
	require.NoError(t, err)
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	var d event.Decoder
	var ev event.Event
	n, latest := 0, time.Now()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		require.NoError(t, d.Decode(nil, sc.Bytes(), &ev), sc.Text())
		require.LessOrEqual(t, ev.Time, latest.UnixNano())
		n++
	}
	require.NoError(t, sc.Err())
	require.Greater(t, n, 100)
}

func TestBadFlags(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		err := run(context.Background(), append(args, "--out", os.DevNull), io.Discard, io.Discard)
		require.ErrorContains(t, err, want)
	}
	f("90 days", "--from", "2200h")
	f("--from", "--from", "yesterday")
	f("then-live", "--mode", "live", "--then-live")
	f("--acks", "--acks", "two")
	f("--compression", "--compression", "lz5")
	f("--partitioner", "--partitioner", "random")
	f("mode", "--mode", "turbo")
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"24h", "-24h", "2026-11-24T12:00:00Z", "2026-11-24T20:00:00+08:00"} {
		got, err := parseTime(s, now)
		require.NoError(t, err, s)
		require.True(t, got.Equal(now.Add(-24*time.Hour)), s)
	}
	got, err := parseTime("", now)
	require.NoError(t, err)
	require.True(t, got.IsZero())
}
