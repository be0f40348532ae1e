package engine

// Prefetching for the passes of Flush that visit lists of series (the minute tick, the hourly
// pass over the live series): as for a batch of events (batch.go), a chunk of the list is first
// walked only to load what each entry will touch, so that the cache misses of the chunk are in
// flight together, then processed in order.

// prefetchChunk is the number of list entries loaded ahead of their processing.
const prefetchChunk = 64

// touchSeries loads the series listed in sids, the newest of their cells and, in the newest of
// their hours, the count of minute m (the first minute a tick sets) and the peak.
func (e *Engine) touchSeries(sids []uint32, m int64) {
	mh := int(m - floorDiv(m, 60)*60)
	var sink uint64
	for _, sid := range sids {
		if s := e.series[sid]; s != nil {
			sink += uint64(len(s.cells)) + uint64(s.ticked)
		}
	}
	for _, sid := range sids {
		if s := e.series[sid]; s != nil {
			if n := len(s.cells); n > 0 {
				sink += uint64(s.cells[n-1].run)
			}
			if h := s.lastHourState; h != nil {
				// The minute's count and the hour's peak, which Set compares it with: they are
				// on different cache lines but for the first minutes of the hour.
				sink += uint64(h.w.Count(mh)) + uint64(h.w.Peak().Count)
			}
		}
	}
	e.sink += sink
}
