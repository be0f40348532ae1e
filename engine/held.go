package engine

// Held returns the number of recordings and of series (projects and (project, domain) pairs)
// the engine holds. Unlike Stats it is cheap: call it for metrics after every flush.
func (e *Engine) Held() (recordings, series int) {
	e.drain()
	return len(e.recs) - len(e.freeIDs), len(e.seriesIDs)
}
