package engine

// release drops the minutes before cut: the cells of the series that have one there, the history
// events of recordings (folded into their state), recordings with nothing left and, once an hour,
// series with nothing left. Each minute's slot lists whom it concerns, so a release costs what
// the minute held, not O(series).
func (e *Engine) release(cut int64) {
	e.minutes.release(cut, func(_ int64, slot *minuteSlot) {
		for i, sid := range slot.cells {
			if i%prefetchChunk == 0 {
				e.touchSeries(slot.cells[i:min(len(slot.cells), i+prefetchChunk)])
			}
			if s := e.series[sid]; s != nil {
				s.release(cut)
			}
		}
		for i, id := range slot.recs {
			if i%prefetchChunk == 0 {
				e.touchRecordings(slot.recs[i:min(len(slot.recs), i+prefetchChunk)])
			}
			r := &e.recs[id]
			if r.key == keyNone || r.hist == 0 {
				continue // dropped already, or folded through another minute
			}
			hist := r.fold(e.hist.get(r.hist), cut)
			if len(hist) > 0 {
				e.hist.put(r.hist, hist)
				continue
			}
			e.hist.release(r.hist)
			r.hist = 0
			if r.since == noSession {
				e.dropRecording(id)
			}
		}
	})
	e.compactArena()
	e.hist.compact(e.recs)
	if floorDiv(cut, 60) > floorDiv(e.released, 60) {
		e.pruneLive()
	}
}

// pruneLive removes the quiet series from the live list, and frees those that no recording
// refers to. It is O(live series), so release calls it once an hour: a quiet series left in the
// list meanwhile only costs the hourly tick a look.
func (e *Engine) pruneLive() {
	live := e.live[:0]
	for _, sid := range e.live {
		s := e.series[sid]
		if !s.quiet() {
			live = append(live, sid)
			continue
		}
		s.live = false
		if s.refs == 0 && !e.recovering {
			e.freeSeries(sid) // recovery keeps it: its withheld hours are published at the end
		}
	}
	clear(e.live[len(live):])
	e.live = live
}
