package engine

// release drops the minutes before cut. A minute's slot only lists whom the minute concerns, so
// its release is only forgetting the slot; the state of the series and recordings behind cut is
// dropped once an hour, each series and each recording visited once (see sweep and pruneLive),
// rather than once per minute in which it had an event: revisiting the state of each event when
// its minute is released cost as much as a third of applying it.
func (e *Engine) release(cut int64) {
	e.minutes.release(cut)
	if floorDiv(cut, 60) > floorDiv(e.released, 60) {
		e.sweep(cut)
		e.pruneLive(cut)
	}
}

// sweep folds the history events of every recording before minute cut (no accepted event can be
// before it any more) into the recording's state, and drops the recordings left with nothing:
// no event in the retained minutes and no session going on.
//
// Folding is not needed for exactness — a history replays to the same state whether or not its
// old events are folded — only to bound the history and to free finished recordings. So it is
// done once an hour over the recordings that have a history (the withHist bitmap), in order of
// id, rather than each minute for the recordings with an event in it: per event, an ordered pass
// every hour costs a fraction of revisiting each event's recording (and its history block, long
// evicted from the caches) when its minute is released, and recordings whose starts are folded
// already cost nothing. A history block holds the events of the correction horizon and one hour
// more; insertQueued folds a full block early.
func (e *Engine) sweep(cut int64) {
	empty := e.dropIDs[:0]
	var chunk [prefetchChunk]uint32
	for it := e.withHist.ManyIterator(); ; {
		// A chunk of ids at a time: their blocks, spread over the slab, are loaded together.
		ids := chunk[:it.NextMany(chunk[:])]
		if len(ids) == 0 {
			break
		}
		var sink uint64
		for _, id := range ids {
			sink += uint64(e.hist.blocks[e.recs[id].hist].ev[0].time)
		}
		e.sink += sink
		for _, id := range ids {
			r := &e.recs[id]
			hist := e.hist.get(r.hist)
			if len(hist) > 0 && minuteOf(hist[0].time) >= cut {
				continue
			}
			if hist = e.hist.blocks[r.hist].fold(hist, cut); len(hist) > 0 {
				e.hist.put(r.hist, hist)
				continue
			}
			empty = append(empty, id)
		}
	}
	for _, id := range empty { // after the iteration, which must not see the bitmap change
		if e.recs[id].cur == noSession { // its history is empty: cur is the folded state
			e.dropRecording(id) // nothing left: its history goes with it
		} else {
			e.releaseHistory(id)
		}
	}
	if e.dropIDs = empty[:0]; cap(e.dropIDs) > 1<<16 {
		e.dropIDs = nil // a burst of finished recordings does not pin its ids
	}
	e.swept = max(e.swept, cut)
	e.compactArena()
	e.hist.compact(e.recs)
}

// pruneLive drops the cells of the live series before minute cut, removes the series that
// became quiet from the live list, and frees those that no recording refers to. It is O(live
// series), so release calls it once an hour: a quiet series left in the list meanwhile only costs
// the hourly tick a look.
func (e *Engine) pruneLive(cut int64) {
	live := e.live[:0]
	for i, sid := range e.live {
		if i%prefetchChunk == 0 {
			e.touchSeries(e.live[i:min(len(e.live), i+prefetchChunk)], cut)
		}
		s := e.series[sid]
		s.release(cut)
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
