package engine

import (
	"github.com/recordusage/recordusage/internal/invariants"
	"github.com/recordusage/recordusage/results"
	"github.com/recordusage/recordusage/window"
)

const nsPerHour = 60 * nsPerMinute

// Flush brings the published state up to date and calls emit for every hour whose value
// changed since the last Flush, and for every hour that became final. caughtUp says whether the
// partition has no unread messages: then every minute through the wall clock's current minute is
// counted and published as provisional, so a start shows at once and open recordings count up
// to now (CONTRACT.md §4); reading a backlog, the event watermark decides how far minutes are
// published. Flush also releases the memory of minutes and recordings that fell behind the
// correction horizon. Hours withheld by a recovery are published by Reconcile, or here when they
// become final.
func (e *Engine) Flush(caughtUp bool, emit func(results.Record)) {
	e.drain()
	if !e.hasTime {
		return
	}
	wm := e.watermark()
	frontier := max(e.frontier, minuteOf(wm))
	if caughtUp {
		frontier = max(frontier, minuteOf(e.now().UnixNano()))
	}

	// Late corrections first: the minute tick below continues from the recounted spans.
	for _, sid := range e.dirty {
		if s := e.series[sid]; s != nil && s.dirtyFrom != clean {
			s.recount(s.dirtyFrom, e.frontier)
			s.dirtyFrom = clean
			e.emitPending(s, emit)
		}
	}
	e.dirty = e.dirty[:0]
	if frontier > e.frontier {
		e.advance(frontier, emit)
	}

	finalTo, released := e.horizonMarks()
	if finalTo > e.finalTo {
		if e.recovering {
			e.finalizeWithheld(finalTo, emit)
		}
		e.finalize(finalTo, emit)
		e.finalTo = finalTo
	}
	if released > e.released {
		e.release(released)
		e.released = released
	}
	if invariants.Enabled {
		e.checkInvariants()
	}
}

// emitPending emits the hours of s whose peak changed since they were last emitted.
func (e *Engine) emitPending(s *series, emit func(results.Record)) {
	for _, hour := range s.pending {
		h := s.hours.get(hour)
		if h == nil {
			continue
		}
		h.pending = false
		if e.withheld(hour) {
			continue // Reconcile publishes it, or finalizeWithheld
		}
		p := h.w.Peak()
		if (h.sentOK && p != h.sent) || (!h.sentOK && p.Count > 0) {
			h.sent, h.sentOK = p, true
			emit(s.result(hour, p, false))
		}
	}
	s.pending = s.pending[:0]
}

// finalize emits the final value of every hour before finalTo that was ever emitted and drops
// the state of those hours.
func (e *Engine) finalize(finalTo int64, emit func(results.Record)) {
	for _, sid := range e.live {
		s := e.series[sid]
		for len(s.hours.list) > 0 && s.hours.list[0].hour < finalTo {
			hour, h := s.hours.list[0].hour, s.hours.list[0].state
			if h.sentOK {
				emit(s.result(hour, h.w.Peak(), true))
			}
			s.dropHour(hour, h)
		}
	}
}

func (s *series) result(hour int64, p window.Peak, final bool) results.Record {
	return results.Record{ProjectID: s.project, Domain: s.domain, Hour: hour * 3600, Peak: p, Final: final}
}

// tombstone is the result that deletes an hour's key: the hour has no value, and reads as 0.
func (s *series) tombstone(hour int64) results.Record {
	return results.Record{ProjectID: s.project, Domain: s.domain, Hour: hour * 3600, Tombstone: true}
}

// dropHour forgets the state of a final hour.
func (s *series) dropHour(hour int64, h *hourState) {
	s.hours.remove(hour)
	if s.lastHourState == h {
		s.lastHourState = nil
	}
	s.pool.put(h)
}

// markLive puts a series in the list of those the minute tick, finalization and release visit.
func (e *Engine) markLive(sid uint32) {
	if s := e.series[sid]; !s.live {
		s.live = true
		e.live = append(e.live, sid)
	}
}

// freeSeries forgets a series that has no recording and no state.
func (e *Engine) freeSeries(sid uint32) {
	delete(e.seriesIDs, e.series[sid].key)
	e.series[sid] = nil
	e.freeSer = append(e.freeSer, sid)
}
