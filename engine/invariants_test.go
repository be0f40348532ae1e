package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/results"
)

// TestInvariantsCatchCorruption checks that checkInvariants, which Flush runs under -race, finds
// each kind of inconsistency between the engine's lists, flags and caches.
func TestInvariantsCatchCorruption(t *testing.T) {
	build := func() *Engine {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T11:10:00Z", "p", "d", "s", "")
		s.send(over, "2026-11-25T11:20:00Z", "p", "d", "s", "")
		s.send(start, "2026-11-25T11:30:00Z", "p", "e", "s", "")
		s.flush(true)
		s.e.checkInvariants()
		return s.e
	}
	for _, tc := range []struct {
		name    string
		corrupt func(e *Engine)
	}{
		{"a series twice in the live list", func(e *Engine) { e.live = append(e.live, e.live[0]) }},
		{"a live flag without the list", func(e *Engine) { e.live = e.live[:len(e.live)-1] }},
		{"a dirty series missing from the dirty list", func(e *Engine) { e.series[e.live[0]].dirtyFrom = 0 }},
		{"a pending hour missing from the pending list", func(e *Engine) {
			for _, he := range e.series[e.live[0]].hours.list {
				he.state.pending = true
			}
		}},
		{"a stale last-hour cache", func(e *Engine) { e.series[e.live[0]].lastHourState = &hourState{} }},
		{"a wrong reference count", func(e *Engine) { e.series[e.live[0]].refs++ }},
		{"a recording with history missing from the bitmap", func(e *Engine) {
			for id := range e.recs {
				if e.recs[id].hist != 0 {
					e.withHist.Remove(uint32(id))
					return
				}
			}
		}},
		{"a free recording in the bitmap of those with history", func(e *Engine) { e.withHist.Add(uint32(len(e.recs) + 5)) }},
		{"a recording missing from a boundary set", func(e *Engine) {
			for id := range e.recs {
				if r := &e.recs[id]; r.key != keyNone && r.hist != 0 {
					e.minutes.remove(minuteOf(e.history(r)[0].time), uint32(id))
					return
				}
			}
		}},
		{"an extra recording in a boundary set", func(e *Engine) {
			e.minutes.add(e.minutes.end-1, e.frontier, uint32(len(e.recs)+3))
		}},
		{"a wrong current session", func(e *Engine) {
			for id := range e.recs {
				if r := &e.recs[id]; r.key != keyNone {
					r.cur++
					return
				}
			}
		}},
		{"a wrong newest event", func(e *Engine) {
			for id := range e.recs {
				if r := &e.recs[id]; r.key != keyNone && r.hist != 0 {
					r.last--
					return
				}
			}
		}},
		{"hours out of order", func(e *Engine) {
			s := e.series[e.live[0]]
			s.hours.list = append(s.hours.list, hourEntry{s.hours.list[0].hour - 1, &hourState{}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := build()
			tc.corrupt(e)
			require.Panics(t, e.checkInvariants)
		})
	}
	// And Flush runs them in this build when invariants are on.
	e := build()
	e.live = append(e.live, e.live[0])
	e.now = func() time.Time { return time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC) }
	flush := func() { e.Flush(true, func(results.Record) {}) }
	if invariantsOn() {
		require.Panics(t, flush)
	}
}
