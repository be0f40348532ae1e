package engine

import (
	"fmt"
	"math"
	"time"
)

// rebuild derives the per-minute state after a restore — the minute slots with their boundary
// bitmaps, and every series' cells — from the recordings: their folded state and their history,
// which holds every event of the retained minutes. A snapshot therefore does not carry that
// state, and its bytes do not depend on how it is laid out in memory. rebuild reports a snapshot
// that cannot have been written by an engine instead of panicking on it.
//
// Snapshots of versions 1 and 2 stored every minute of an hour's window; fullWindows says so,
// and the minutes that this version leaves at 0 (see series) are cleared.
func (e *Engine) rebuild(fullWindows bool) error {
	// A retained event is at most the horizon and the lateness behind the newest one once the
	// engine has flushed; the retention bounds it in any case, and with it the minute slots.
	span := int64(e.cfg.Retention+e.cfg.MaxClockSkew+e.cfg.CorrectionHorizon+e.cfg.Lateness)/int64(time.Minute) + 2
	for _, s := range e.series {
		if s != nil {
			s.first = e.released
		}
	}
	for _, sid := range e.dirty {
		if int(sid) >= len(e.series) || e.series[sid] == nil {
			return fmt.Errorf("%w: dirty series %d does not exist", ErrBadSnapshot, sid)
		}
	}
	// Nothing derived here is behind the frontier: the dirty marks are the snapshot's.
	frontier := e.frontier
	e.frontier = math.MinInt64
	defer func() { e.frontier = frontier }()
	for i := range e.recs {
		r := &e.recs[i]
		if r.key == keyNone {
			continue
		}
		id := uint32(i)
		hist := e.history(r)
		for j, h := range hist {
			m := minuteOf(h.time)
			switch {
			case j > 0 && !hist[j-1].before(h):
				return fmt.Errorf("%w: history of recording %d out of order", ErrBadSnapshot, id)
			case m < e.released || m-e.released > span || (e.hasTime && h.time > e.maxTime):
				return fmt.Errorf("%w: history event of recording %d outside the retained minutes", ErrBadSnapshot, id)
			}
		}
		e.old.reset()
		open, since := e.folded(r)
		if open && minuteOf(since) >= e.released {
			return fmt.Errorf("%w: folded session of recording %d in the retained minutes", ErrBadSnapshot, id)
		}
		e.new.walk(open, since, hist)
		// The walk's changes before the retained minutes are those of the folded session: it
		// goes on into them.
		for len(e.new.deltas) > 0 && e.new.deltas[0].minute < e.released {
			e.series[r.all].runBase += e.new.deltas[0].net
			e.series[r.dom].runBase += e.new.deltas[0].net
			e.new.deltas = e.new.deltas[1:]
		}
		for len(e.new.bounds) > 0 && e.new.bounds[0] < e.released {
			e.new.bounds = e.new.bounds[1:]
		}
		e.applyChange(id, r.all, r.dom)
	}
	// The boundary sets were built staged (the frontier was out of the way): the published
	// minutes' are sealed, as advance would have.
	for m := e.minutes.lo; m < e.minutes.end && m <= frontier; m++ {
		e.minutes.seal(m)
	}
	for sid, s := range e.series {
		if s == nil {
			continue
		}
		if !s.quiet() {
			e.markLive(uint32(sid))
		}
		run := s.runBase
		for i := range s.cells {
			c := &s.cells[i]
			c.run = run
			run += c.net
		}
		if fullWindows {
			s.clearGapMinutes(e.released, frontier)
		}
	}
	return nil
}

// clearGapMinutes sets to 0, in the windows of a snapshot of version 1 or 2, the retained
// minutes up to the frontier that neither have a cell nor start an hour: this version never sets
// them (see series), and a late correction would not update them.
func (s *series) clearGapMinutes(from, to int64) {
	for _, he := range s.hours.list {
		hour, h := he.hour, he.state
		counts := h.w.Counts()
		changed := false
		for m := range counts {
			minute := hour*60 + int64(m)
			if m == 0 || minute < from || minute > to || counts[m] == 0 {
				continue
			}
			if i := s.search(minute); i < len(s.cells) && s.cells[i].minute == minute {
				continue
			}
			counts[m], changed = 0, true
		}
		if changed {
			h.w.Load(counts)
		}
	}
}
