package engine

import "github.com/recordusage/recordusage/results"

// advance moves the frontier of published minutes to `to`, counting the new minutes, and emits
// the hours whose peak changed.
//
// Only two kinds of series need work (see series for why the windows stay exact): those with a
// cell in the new minutes, which their minutes' slots list, and, when an hour starts among the
// new minutes, every live series, whose count goes on into the new hour. A minute tick within an
// hour is therefore O(series with a boundary in it), not O(series).
func (e *Engine) advance(to int64, emit func(results.Record)) {
	from := e.frontier + 1
	for m := max(from, e.minutes.lo); m < min(to+1, e.minutes.end); m++ {
		e.minutes.seal(m) // published from now on: late events test and change its bitmap
		e.tickList(e.minutes.get(m).cells, from, to, emit)
	}
	if floorDiv(to, 60) > floorDiv(from-1, 60) {
		e.tickList(e.live, from, to, emit)
	}
	e.frontier = to
}

// tickList ticks the series listed in sids, a chunk at a time, each chunk prefetched first.
func (e *Engine) tickList(sids []uint32, from, to int64, emit func(results.Record)) {
	for len(sids) > 0 {
		chunk := sids[:min(len(sids), prefetchChunk)]
		sids = sids[len(chunk):]
		e.touchSeries(chunk, from)
		for _, sid := range chunk {
			e.tickSeries(sid, from, to, emit)
		}
	}
}

// tickSeries counts the minutes from..to of one series, once per tick.
func (e *Engine) tickSeries(sid uint32, from, to int64, emit func(results.Record)) {
	s := e.series[sid]
	if s == nil || s.ticked == to {
		return // freed since its cell was listed, or already counted by this tick
	}
	s.ticked = to
	s.recount(from, to)
	e.emitPending(s, emit)
}
