package loadgen

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/event"
)

// t0 is the end of the test backfills: a fixed time, so that runs are reproducible.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fakeClock is a clock that moves only when Run sleeps. Run calls it from one goroutine.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return ctx.Err()
}

// testConfig is a small backfill of span ending at t0, with the clock stopped a minute later.
func testConfig(span time.Duration) Config {
	cfg := DefaultConfig()
	cfg.Projects, cfg.Channels = 40, 1000
	cfg.From, cfg.To = t0.Add(-span), t0
	clock := &fakeClock{t0.Add(time.Minute)}
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	return cfg
}

// sent is a message kept by collectSink, with the clock when it was written.
type sent struct {
	Message
	at time.Time
}

// collectSink keeps copies of everything written.
type collectSink struct {
	now  func() time.Time
	msgs []sent
	// after, when set, is called after each write.
	after func()
}

func (s *collectSink) Write(_ context.Context, msgs []Message) error {
	for _, m := range msgs {
		m.Key, m.Value = slices.Clone(m.Key), slices.Clone(m.Value)
		s.msgs = append(s.msgs, sent{m, s.now()})
	}
	if s.after != nil {
		s.after()
	}
	return nil
}

// runCollect runs cfg into a collectSink and returns what it got.
func runCollect(t *testing.T, cfg Config) ([]sent, Stats) {
	t.Helper()
	sink := &collectSink{now: cfg.now}
	st, err := Run(context.Background(), cfg, sink, nil)
	require.NoError(t, err)
	require.Equal(t, int64(len(sink.msgs)), st.Sent)
	return sink.msgs, st
}

// rec is a decoded good event, its strings copied.
type rec struct {
	recording string // project, domain, app, stream, format
	typ       event.Type
	time      int64
}

// goodEvents decodes the KindEvent messages (not the duplicates), in delivery order.
func goodEvents(t *testing.T, msgs []sent) []rec {
	t.Helper()
	var d event.Decoder
	var out []rec
	for _, m := range msgs {
		if m.Kind != KindEvent {
			continue
		}
		var ev event.Event
		require.NoError(t, d.Decode(m.Key, m.Value, &ev), string(m.Value))
		out = append(out, rec{
			recording: string(ev.ProjectID) + "/" + string(ev.PublishDomain) + "/" + string(ev.App) + "/" +
				string(ev.Stream) + "/" + string(ev.RecordFormat),
			typ: ev.Type, time: ev.Time,
		})
	}
	return out
}

// session is one start-to-stop span of a recording, as its events show it.
type session struct {
	recording   string
	start, stop int64 // stop is 0 while still open at the end
}

// sessionsOf checks that each recording's events, in event-time order, form well-made sessions
// (a start, file events while open, a stop) and returns them.
func sessionsOf(t *testing.T, evs []rec) []session {
	t.Helper()
	by := map[string][]rec{}
	for _, e := range evs {
		by[e.recording] = append(by[e.recording], e)
	}
	var out []session
	for name, rs := range by {
		slices.SortStableFunc(rs, func(a, b rec) int { return cmp.Compare(a.time, b.time) })
		var cur *session
		for _, e := range rs {
			switch {
			case e.typ == event.RecordStart:
				require.Nil(t, cur, "%s: a start at %d while open", name, e.time)
				cur = &session{recording: name, start: e.time}
			case e.typ.Closes():
				require.NotNil(t, cur, "%s: a stop at %d while closed", name, e.time)
				require.Greater(t, e.time, cur.start, "%s: stops when it starts", name)
				cur.stop = e.time
				out = append(out, *cur)
				cur = nil
			default:
				require.NotNil(t, cur, "%s: %v at %d while closed", name, e.typ, e.time)
			}
		}
		if cur != nil {
			out = append(out, *cur)
		}
	}
	return out
}
