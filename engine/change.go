package engine

// applyChange applies e.new minus e.old, the change that one event made to the sessions of
// recording id, to the partition's boundary bitmaps and to the cells of the recording's two
// series (its project's and its domain's).
//
// A boundary only in e.new is added to its minute's bitmap, and counted in the cells only if the
// recording was not there yet: another session of it may have a boundary in the same minute
// (a restart). A boundary only in e.old is removed. This is exact because the walks start at the
// inserted event: a minute that only the old walk has is after the inserted event's minute (the
// new walk always has that one), and no event before the insertion point is in it.
func (e *Engine) applyChange(id, all, dom uint32) {
	ch := e.changes[:0]
	ob, nb := e.old.bounds, e.new.bounds
	od, nd := e.old.deltas, e.new.deltas
	for len(ob) > 0 || len(nb) > 0 || len(od) > 0 || len(nd) > 0 {
		// The next minute that either walk touches, and what changed there.
		m := int64(clean)
		if len(ob) > 0 {
			m = ob[0]
		}
		if len(nb) > 0 {
			m = min(m, nb[0])
		}
		if len(od) > 0 {
			m = min(m, od[0].minute)
		}
		if len(nd) > 0 {
			m = min(m, nd[0].minute)
		}
		d := cellDelta{minute: m}
		inOld := len(ob) > 0 && ob[0] == m
		inNew := len(nb) > 0 && nb[0] == m
		if inOld {
			ob = ob[1:]
		}
		if inNew {
			nb = nb[1:]
		}
		switch {
		case inNew && !inOld:
			d.bounds = e.addBound(m, id)
		case inOld && !inNew:
			if e.minutes.remove(m, id) {
				d.bounds = -1
			}
		}
		if len(nd) > 0 && nd[0].minute == m {
			d.net, d.down = nd[0].net, nd[0].down
			nd = nd[1:]
		}
		if len(od) > 0 && od[0].minute == m {
			d.net, d.down = d.net-od[0].net, d.down-od[0].down
			od = od[1:]
		}
		if d.bounds != 0 || d.net != 0 || d.down != 0 {
			ch = append(ch, d)
		}
	}
	e.changes = ch
	if len(ch) == 0 {
		return
	}
	e.changeSeries(all)
	e.changeSeries(dom)
}

// applyNewest is applyChange for an event after every other event of its recording, the common
// case, computed directly instead of from two walks: the walks from the recording's state before
// the event (open, since) differ only by what the event itself does, in its own minute.
func (e *Engine) applyNewest(id, all, dom uint32, open bool, since int64, h histEvent) {
	m := minuteOf(h.time)
	d := cellDelta{minute: m}
	switch {
	case h.typ().Opens() && !open: // a session starts in m and goes on after it
		d.net = 1
		d.bounds = e.addBound(m, id)
	case h.typ().Closes() && open && minuteOf(since) == m: // it ends in its first minute: no longer goes on
		d.net = -1
	case h.typ().Closes() && open: // it ends in m, having started before
		d.net, d.down = -1, 1
		d.bounds = e.addBound(m, id)
	case h.typ().Closes(): // a stop without a start: a session of one instant
		d.bounds = e.addBound(m, id)
	default:
		return // a start while a session is going on changes nothing
	}
	if d.bounds == 0 && d.net == 0 && d.down == 0 {
		return
	}
	e.changes = append(e.changes[:0], d)
	e.changeSeries(all)
	e.changeSeries(dom)
}

// addBound adds recording id to the boundary set of minute m and returns 1 if it was not there
// yet (the change of the minute's cells' bounds), else 0.
func (e *Engine) addBound(m int64, id uint32) int32 {
	if e.minutes.add(m, e.frontier, id) {
		return 1
	}
	return 0
}

// changeSeries adds e.changes to the cells of one series. A new cell is listed in its minute's
// slot, so that the minute tick recounts the series when the frontier passes it and the release
// of the minute drops it; a change at or behind the frontier marks the series dirty from there.
func (e *Engine) changeSeries(sid uint32) {
	e.markLive(sid)
	s := e.series[sid]
	lowest := int64(clean)
	for _, d := range e.changes {
		c, created := s.cell(d.minute)
		c.bounds += d.bounds
		c.net += d.net
		c.down += d.down
		if created {
			slot := e.minutes.at(d.minute)
			slot.cells = append(slot.cells, sid)
		}
		if d.minute <= e.frontier {
			lowest = min(lowest, d.minute)
		}
	}
	if lowest < s.dirtyFrom {
		if s.dirtyFrom == clean {
			e.dirty = append(e.dirty, sid)
		}
		s.dirtyFrom = lowest
	}
}
