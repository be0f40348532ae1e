package engine

import "github.com/RoaringBitmap/roaring/v2"

// minuteSlot is what the partition keeps for one retained minute, across all its series.
type minuteSlot struct {
	// bounds holds the recordings with a session boundary (a start or a stop) in the minute; nil
	// until the first one. It is partition-wide: a recording belongs to exactly two series (its
	// project and its domain), so whether its id is new to the bitmap says whether it is new to
	// the boundaries of both series' cells, which then only need a counter (minuteCell.bounds).
	// This is what makes a restart within one minute count once.
	bounds *roaring.Bitmap
	// cells holds the series that created a cell for the minute, possibly repeated: they are
	// recounted when the frontier passes the minute.
	cells []uint32
}

// minuteRing holds the slots of the retained minutes lo..end-1 in a circular buffer whose length
// is a power of two, indexed by the minute itself: a slot is found without a map lookup, and a
// released slot keeps its buffers for the minute that reuses it. The zero value holds none.
type minuteRing struct {
	slots   []minuteSlot
	lo, end int64 // the minutes with a slot; none when end <= lo
}

// at returns the slot of minute m, creating the slots up to it. The pointer is valid until the
// next call of at.
func (r *minuteRing) at(m int64) *minuteSlot {
	switch {
	case r.end <= r.lo:
		r.lo, r.end = m, m+1
		r.fit(1)
	case m < r.lo:
		r.fit(r.end - m)
		r.lo = m
	case m >= r.end:
		r.fit(m - r.lo + 1)
		r.end = m + 1
	}
	return &r.slots[m&int64(len(r.slots)-1)]
}

// get returns the slot of minute m, or nil when it has none.
func (r *minuteRing) get(m int64) *minuteSlot {
	if m < r.lo || m >= r.end {
		return nil
	}
	return &r.slots[m&int64(len(r.slots)-1)]
}

// fit makes room for n consecutive minutes starting at lo.
func (r *minuteRing) fit(n int64) {
	if n <= int64(len(r.slots)) {
		return
	}
	size := int64(max(64, len(r.slots)))
	for size < n {
		size *= 2
	}
	slots := make([]minuteSlot, size)
	if len(r.slots) > 0 {
		for m := r.lo; m < r.end; m++ {
			slots[m&(size-1)] = r.slots[m&int64(len(r.slots)-1)]
		}
	}
	r.slots = slots
}

// release forgets the slots of the minutes before cut.
func (r *minuteRing) release(cut int64) {
	if r.end <= r.lo || cut <= r.lo {
		return
	}
	for m := r.lo; m < min(cut, r.end); m++ {
		s := &r.slots[m&int64(len(r.slots)-1)]
		if s.bounds != nil {
			s.bounds.Clear()
		}
		s.cells = s.cells[:0]
	}
	r.lo = min(cut, r.end)
}
