package loadgen

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func liveConfig(clock *fakeClock) Config {
	cfg := DefaultConfig()
	cfg.Mode = ModeLive
	cfg.Projects, cfg.Channels = 40, 1000
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	return cfg
}

func TestLiveNeverAheadOfTheClock(t *testing.T) {
	clock := &fakeClock{t0}
	cfg := liveConfig(clock)
	cfg.Duration = 3 * time.Hour
	cfg.BadShare = 0.01
	msgs, st := runCollect(t, cfg)
	require.Greater(t, len(msgs), 1000)
	for i, m := range msgs {
		require.False(t, m.EventTime.After(m.at), "message %d: event time %v after the clock %v", i, m.EventTime, m.at)
		require.False(t, m.EventTime.Before(t0), "message %d", i)
	}
	require.Equal(t, t0.Add(cfg.Duration), clock.t, "live ends after Duration on the clock")
	require.Positive(t, st.Open)
	// Paced by the clock: the last messages were sent near the end.
	require.Greater(t, msgs[len(msgs)-1].at, t0.Add(cfg.Duration-time.Minute))
	sessionsOf(t, goodEvents(t, msgs))
}

func TestBackfillThenLiveIsSeamless(t *testing.T) {
	clock := &fakeClock{t0}
	cfg := liveConfig(clock)
	cfg.Mode, cfg.ThenLive = ModeBackfill, true
	cfg.From, cfg.Duration = t0.Add(-3*time.Hour), 2*time.Hour
	msgs, _ := runCollect(t, cfg)

	var latest int64
	for i, m := range msgs {
		require.False(t, m.EventTime.After(m.at), "message %d ahead of the clock", i)
		et := m.EventTime.UnixNano()
		latest = max(latest, et)
		require.LessOrEqual(t, latest-et, int64(cfg.MaxDelay), "message %d", i)
	}
	crossing := 0
	for _, s := range sessionsOf(t, goodEvents(t, msgs)) {
		if s.start < t0.UnixNano() && s.stop > t0.UnixNano() {
			crossing++
		}
	}
	require.Greater(t, crossing, 50, "sessions open at the end of the backfill continue live")
}

func TestRateLimit(t *testing.T) {
	cfg := testConfig(2 * time.Hour)
	clock := &fakeClock{t0.Add(time.Minute)}
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	cfg.Rate = 1000
	msgs, st := runCollect(t, cfg)
	want := time.Duration(float64(len(msgs))/cfg.Rate*float64(time.Second)) - 100*time.Millisecond // less the burst
	require.InDelta(t, want.Seconds(), st.Elapsed.Seconds(), 0.01*want.Seconds())
	for i := 1000; i < len(msgs); i += 97 {
		// 1000 messages take a second, less the burst of a tenth of a second's worth.
		window := msgs[i].at.Sub(msgs[i-1000].at)
		require.GreaterOrEqual(t, window, 900*time.Millisecond, "1000 messages within %v", window)
	}
}

func TestCancelStopsCleanly(t *testing.T) {
	clock := &fakeClock{t0}
	cfg := liveConfig(clock)
	ctx, cancel := context.WithCancel(context.Background())
	sink := &collectSink{now: clock.Now}
	writes := 0
	sink.after = func() {
		if writes++; writes == 5 {
			cancel()
		}
	}
	st, err := Run(ctx, cfg, sink, nil)
	require.NoError(t, err, "a cancelled run is a clean stop")
	require.Equal(t, 5, writes)
	require.Equal(t, int64(len(sink.msgs)), st.Sent)
}

func TestProgressPlain(t *testing.T) {
	clock := &fakeClock{t0}
	cfg := liveConfig(clock)
	cfg.Duration = time.Minute
	var out bytes.Buffer
	_, err := Run(context.Background(), cfg, &collectSink{now: clock.Now}, &out)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// A line every 5 s (at 5 s, …, 55 s: the run ends at 60 s) and the summary.
	require.Len(t, lines, 11+1, "%s", out.String())
	require.Contains(t, lines[0], "recordings open")
	require.NotContains(t, out.String(), "\r")
	require.True(t, strings.HasPrefix(lines[len(lines)-1], "done: "))

	cfg = testConfig(time.Hour)
	cfg.Rate = 300 // about 12 s on the clock: two lines
	out.Reset()
	_, err = Run(context.Background(), cfg, &collectSink{now: cfg.now}, &out)
	require.NoError(t, err)
	require.Contains(t, out.String(), "backfill [")
	require.Contains(t, out.String(), "ETA")
}

func TestValidate(t *testing.T) {
	f := func(name string, change func(*Config), want string) {
		t.Helper()
		cfg := DefaultConfig()
		cfg.Now = func() time.Time { return t0 }
		change(&cfg)
		err := cfg.Validate()
		if want == "" {
			require.NoError(t, err, name)
			return
		}
		require.ErrorContains(t, err, want, name)
	}
	f("defaults", func(*Config) {}, "")
	f("89 days back", func(c *Config) { c.From = t0.Add(-89 * 24 * time.Hour) }, "")
	f("90 days back", func(c *Config) { c.From = t0.Add(-90 * 24 * time.Hour) }, "90 days")
	f("to in the future", func(c *Config) { c.To = t0.Add(time.Second) }, "future")
	f("from after to", func(c *Config) { c.From, c.To = t0.Add(-time.Hour), t0.Add(-2*time.Hour) }, "before")
	f("bad mode", func(c *Config) { c.Mode = "fast" }, "mode")
	f("then-live needs backfill", func(c *Config) { c.Mode, c.ThenLive = ModeLive, true }, "then-live")
	f("then-live ends now", func(c *Config) { c.ThenLive, c.To = true, t0.Add(-time.Hour) }, "then-live")
	f("max delay over horizon", func(c *Config) { c.MaxDelay = 3 * time.Hour }, "correction horizon")
	f("too few channels", func(c *Config) { c.Channels = c.Projects - 1 }, "channel per project")
	f("shares", func(c *Config) { c.DupShare, c.BadShare = 0.3, 0.3 }, "shares")
	f("negative rate", func(c *Config) { c.Rate = -1 }, "negative")
	_, err := New(Config{})
	require.Error(t, err, "the zero Config is not valid")
}

func TestWriterSink(t *testing.T) {
	var out bytes.Buffer
	s := NewWriterSink(&out)
	require.NoError(t, s.Write(context.Background(), []Message{{Value: []byte(`{"a":1}`)}, {Value: []byte(`{"b":2}`)}}))
	require.Equal(t, "{\"a\":1}\n{\"b\":2}\n", out.String())
}
