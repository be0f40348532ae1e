package engine

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/results"
	"github.com/recordusage/recordusage/window"
)

// base is the start of the generated event sets: three hours before a day boundary.
var base = time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC).UnixNano()

// collector keeps the last emitted value of every hour, as the results topic does after
// compaction.
type collector struct {
	last  map[reference.SeriesHour]results.Record
	count int
}

func newCollector() *collector { return &collector{last: map[reference.SeriesHour]results.Record{}} }

func (c *collector) emit(r results.Record) {
	c.count++
	k := reference.Key(r.ProjectID, r.Domain, r.Hour)
	if prev, ok := c.last[k]; ok && prev.Final {
		panic(fmt.Sprintf("hour %v emitted after it was final: %+v", k, r))
	}
	c.last[k] = r
}

func (c *collector) peak(k reference.SeriesHour) window.Peak {
	r, ok := c.last[k]
	if !ok {
		return window.Peak{}
	}
	return r.Peak
}

func toEvent(e reference.Event) *event.Event {
	return &event.Event{
		ProjectID: []byte(e.Project), PublishDomain: []byte(e.Domain), App: []byte(e.App),
		Stream: []byte(e.Stream), RecordFormat: []byte(e.Format), Type: e.Type, Time: e.Time,
	}
}

// genOptions shapes a random event set.
type genOptions struct {
	sessions int
	span     time.Duration // of session starts
	maxDelay time.Duration // of arrival after the event time; at most the horizon
	dupShare float64
}

// genEvents returns a random event set in event-time order: sessions across hour and day
// boundaries, open sessions, unmatched stops, zero-length sessions, restarts in one minute,
// several formats, domains sharing stream names, and noise events.
func genEvents(r *rand.Rand, o genOptions) []reference.Event {
	projects := []string{"p1", "p2", "tenant_3"}[:1+r.IntN(3)]
	domains := []string{"push.a.com", "push.b.com", "live.c.net"}
	formats := []string{"", "HLS", "FLV", "MP4"}
	var evs []reference.Event
	at := func(t int64) int64 {
		switch r.IntN(8) {
		case 0:
			return t - t%nsPerMinute // exactly on a minute
		case 1:
			return t - t%int64(time.Second) // whole seconds
		}
		return t
	}
	for range o.sessions {
		k := reference.Event{
			Project: projects[r.IntN(len(projects))],
			Domain:  domains[r.IntN(1+r.IntN(len(domains)))],
			App:     []string{"live", "app2"}[r.IntN(2)],
			Stream:  fmt.Sprintf("s%d", r.IntN(6)),
			Format:  formats[r.IntN(len(formats))],
		}
		start := base + at(r.Int64N(int64(o.span)))
		var dur int64
		switch r.IntN(6) {
		case 0:
			dur = 0
		case 1:
			dur = r.Int64N(int64(time.Minute))
		case 2, 3:
			dur = r.Int64N(int64(20 * time.Minute))
		default:
			dur = r.Int64N(int64(3 * time.Hour))
		}
		startType := []event.Type{event.RecordStart, event.RecordNewFileStart}[r.IntN(2)]
		stopType := []event.Type{event.RecordOver, event.RecordFailed}[r.IntN(2)]
		switch r.IntN(10) {
		case 0: // open: no stop
			evs = append(evs, with(k, startType, start))
		case 1: // a stop without a start
			evs = append(evs, with(k, stopType, start))
		case 2: // a restart within the same minute
			mid := start + dur/2
			evs = append(evs, with(k, startType, start), with(k, stopType, mid),
				with(k, event.RecordStart, mid+r.Int64N(int64(time.Second))), with(k, stopType, start+dur))
		default:
			evs = append(evs, with(k, startType, start), with(k, stopType, at(start+dur)))
			if r.IntN(4) == 0 {
				evs = append(evs, with(k, event.RecordFileComplete, start+r.Int64N(dur+1)))
			}
		}
	}
	for i, n := 0, int(float64(len(evs))*o.dupShare); i < n; i++ {
		evs = append(evs, evs[r.IntN(len(evs))])
	}
	return evs
}

func with(k reference.Event, typ event.Type, t int64) reference.Event {
	k.Type, k.Time = typ, t
	return k
}

// arrival is an event with the wall-clock time it reaches the engine.
type arrival struct {
	reference.Event
	at int64
}

// deliver orders events by a random delay after their time: out of order, but never more than
// maxDelay late.
func deliver(r *rand.Rand, evs []reference.Event, maxDelay time.Duration) []arrival {
	out := make([]arrival, len(evs))
	for i, e := range evs {
		out[i] = arrival{e, e.Time + r.Int64N(int64(maxDelay)+1)}
	}
	slices.SortStableFunc(out, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	for i := range out {
		out[i].Off = int64(i)
	}
	return out
}

// run feeds arrivals to an engine whose wall clock is each event's arrival time, flushing at
// random points, after one event in flushOdds on average (caught up or not when extend is set),
// and returns the events the engine
// accepted and the engine at the end. It checks that the engine rejects exactly the events
// behind its watermark by more than the horizon. With restarts set, the engine is replaced at
// random flushes by one restored from its snapshot, as after a crash and a checkpoint restore.
func run(t *testing.T, r *rand.Rand, e *Engine, clock *int64, arr []arrival, flushOdds int, extend, restarts bool, c *collector) ([]reference.Event, *Engine) {
	t.Helper()
	var accepted []reference.Event
	rule := lateRule{cfg: e.cfg}
	for _, a := range arr {
		*clock = max(*clock, a.at)
		if applyChecked(t, e, &rule, a.Event) {
			accepted = append(accepted, a.Event)
		}
		if r.IntN(flushOdds) == 0 {
			e.Flush(extend && r.IntN(2) == 0, c.emit)
			if restarts && r.IntN(4) == 0 {
				e = restore(t, e)
			}
		}
	}
	e.Flush(false, c.emit)
	return accepted, e
}

// lateRule is the time rule that rejects an event too far behind the watermark, as the tests
// reckon it: the watermark follows the newest accepted event, so the rule depends on the
// arrival order alone.
type lateRule struct {
	cfg     Config
	maxTime int64
	seen    bool
}

// accept reports whether an event of time t is accepted, and moves the watermark when it is.
func (l *lateRule) accept(t int64) bool {
	if l.seen && t < l.maxTime-int64(l.cfg.Lateness)-int64(l.cfg.CorrectionHorizon) {
		return false
	}
	l.maxTime, l.seen = max(l.maxTime, t), true
	return true
}

// applyChecked applies ev to e, checks that e accepts it or rejects it as too late as rule
// says, and reports whether it was accepted.
func applyChecked(t *testing.T, e *Engine, rule *lateRule, ev reference.Event) bool {
	t.Helper()
	err := e.Apply(toEvent(ev), ev.Off)
	if !rule.accept(ev.Time) {
		var ee *event.Error
		require.True(t, errors.As(err, &ee), "event %+v should be too late", ev)
		require.Equal(t, event.ReasonTooLate, ee.Reason)
		return false
	}
	require.NoError(t, err)
	return true
}

// restore round-trips e through a snapshot and checks that the copy encodes to the same bytes.
func restore(t *testing.T, e *Engine) *Engine {
	t.Helper()
	snap := e.AppendSnapshot(nil)
	e2, err := Restore(e.cfg, e.now, snap)
	require.NoError(t, err)
	require.Equal(t, snap, e2.AppendSnapshot(nil), "a restored engine encodes to the same snapshot")
	return e2
}

// requireMatches checks every hour that has published minutes against the reference model.
func requireMatches(t *testing.T, e *Engine, accepted []reference.Event, c *collector) {
	t.Helper()
	f, ok := e.Frontier()
	if !ok {
		return
	}
	frontier := f.Unix() / 60
	want := reference.Hours(accepted, frontier)
	keys := map[reference.SeriesHour]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range c.last {
		keys[k] = true
	}
	for k := range keys {
		require.Equal(t, want[k], c.peak(k), "hour %s of %q/%q", time.Unix(k.Hour, 0).UTC(), k.Project, k.Domain)
	}
}

func TestPropertyMatchesReference(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name     string
		extend   bool // flush as caught up sometimes: open recordings follow the wall clock
		restarts bool // replace the engine by its restored snapshot at random points
		opts     genOptions
		// flushOdds is one in how many events is followed by a flush; 8 when 0. Rare flushes
		// are a backlog read between two flushes: many minutes ahead of the frontier are
		// staged, more than maxStaged, and the oldest are sealed while events still arrive.
		flushOdds int
	}{
		{"in order", false, false, genOptions{sessions: 40, span: 6 * time.Hour, dupShare: 0.1}, 0},
		{"shuffled within lateness", false, false, genOptions{sessions: 40, span: 6 * time.Hour, maxDelay: cfg.Lateness, dupShare: 0.2}, 0},
		{"shuffled within horizon", false, false, genOptions{sessions: 60, span: 8 * time.Hour, maxDelay: cfg.CorrectionHorizon, dupShare: 0.2}, 0},
		{"caught up, wall clock extension", true, false, genOptions{sessions: 60, span: 8 * time.Hour, maxDelay: cfg.CorrectionHorizon, dupShare: 0.2}, 0},
		{"some too late", true, false, genOptions{sessions: 60, span: 8 * time.Hour, maxDelay: 3 * cfg.CorrectionHorizon, dupShare: 0.1}, 0},
		{"dense short", true, false, genOptions{sessions: 200, span: 90 * time.Minute, maxDelay: 30 * time.Minute, dupShare: 0.3}, 0},
		{"restored from snapshots", true, true, genOptions{sessions: 60, span: 8 * time.Hour, maxDelay: cfg.CorrectionHorizon, dupShare: 0.2}, 0},
		{"backlog, rare flushes", false, false, genOptions{sessions: 200, span: 3 * time.Hour, maxDelay: 20 * time.Minute, dupShare: 0.2}, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iterations := 600
			if testing.Short() {
				iterations = 60
			}
			for i := range iterations {
				r := rand.New(rand.NewPCG(uint64(i), 7))
				evs := genEvents(r, tc.opts)
				arr := deliver(r, evs, tc.opts.maxDelay)
				clock := base
				e, err := New(cfg, func() time.Time { return time.Unix(0, clock) })
				require.NoError(t, err)
				c := newCollector()
				accepted, e := run(t, r, e, &clock, arr, cmp.Or(tc.flushOdds, 8), tc.extend, tc.restarts, c)
				requireMatches(t, e, accepted, c)
			}
		})
	}
}
