package engine

import (
	"math/bits"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// minuteSlot is what the partition keeps for one retained minute, across all its series.
//
// Its boundary set holds the recordings with a session boundary (a start or a stop) in the
// minute. It is partition-wide: a recording belongs to exactly two series (its project and its
// domain), so whether its id is new to the set says whether it is new to the boundaries of both
// series' cells, which then only need a counter (minuteCell.bounds). This is what makes a
// restart within one minute count once.
//
// The set has two forms. A minute that the frontier has not reached yet — the minute that events
// are arriving in — is staged: a plain bitset indexed by recording id, where adding an id is one
// bit, whatever order the ids come in (a roaring array container inserts into a sorted array: a
// binary search and a move of half of it, the largest single cost of an event before). When the
// frontier passes the minute, the bitset is compressed into a roaring bitmap (seal), which is
// what the minute keeps for the correction horizon, and what late events test and change. At
// most maxStaged minutes are staged at a time: reading a backlog, the frontier moves only at
// each flush, and the event times between two flushes can span hours, whose bitsets (id/8 bytes
// each) would add up; the oldest staged minute is sealed early to make room. Either form
// answers the same, so when a minute is sealed only changes the cost of its adds. (While a
// partition is caught up, its frontier is the wall clock's current minute, so events go to
// sealed minutes: staging is for throughput, reading a backlog, and a live rate does not need it.)
type minuteSlot struct {
	bounds *roaring.Bitmap // the boundary set of a sealed minute; nil when staged or empty
	dense  []uint64        // the boundary set of a staged minute, bit id; nil when sealed
	// cells holds the series that created a cell for the minute, possibly repeated: they are
	// recounted when the frontier passes the minute.
	cells []uint32
}

// minuteRing holds the slots of the retained minutes lo..end-1 in a circular buffer whose length
// is a power of two, indexed by the minute itself: a slot is found without a map lookup, and a
// released slot keeps its buffers for the minute that reuses it. The zero value holds none.
type minuteRing struct {
	slots   []minuteSlot
	lo, end int64      // the minutes with a slot; none when end <= lo
	staged  []int64    // the minutes whose set is staged, at most maxStaged
	spare   [][]uint64 // cleared bitsets of sealed minutes, for the next staged ones
}

// maxStaged is the number of minutes staged at a time: the minute that events arrive in and the
// few before it that late events still reach, with the default lateness.
const maxStaged = 8

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

// add adds recording id to the boundary set of minute m and reports whether it was not there.
// A minute after frontier that is not sealed yet is staged.
func (r *minuteRing) add(m, frontier int64, id uint32) bool {
	s := r.at(m)
	if s.dense == nil && m > frontier && (s.bounds == nil || s.bounds.IsEmpty()) {
		// (A released slot keeps its cleared bitmap for reuse: empty is as good as none.)
		if len(r.staged) == maxStaged {
			r.seal(slices.Min(r.staged))
		}
		s.dense = r.bitset()
		r.staged = append(r.staged, m)
	}
	if s.dense == nil {
		if s.bounds == nil {
			s.bounds = roaring.New()
		}
		return s.bounds.CheckedAdd(id)
	}
	if has(s.dense, id) {
		return false
	}
	w, b := bitOf(id)
	if w >= len(s.dense) {
		s.dense = append(s.dense, make([]uint64, w+1-len(s.dense))...)
	}
	s.dense[w] |= b
	return true
}

// bitOf returns the word and the bit of id in a bitset.
func bitOf(id uint32) (int, uint64) { return int(id / 64), 1 << (id % 64) }

// has reports whether a bitset holds id.
func has(dense []uint64, id uint32) bool {
	w, b := bitOf(id)
	return w < len(dense) && dense[w]&b != 0
}

// remove removes recording id from the boundary set of minute m and reports whether it was there.
func (r *minuteRing) remove(m int64, id uint32) bool {
	s := r.get(m)
	switch {
	case s == nil:
		return false
	case s.dense != nil:
		if !has(s.dense, id) {
			return false
		}
		w, b := bitOf(id)
		s.dense[w] &^= b
		return true
	case s.bounds != nil:
		return s.bounds.CheckedRemove(id)
	}
	return false
}

// contains reports whether recording id is in the boundary set of minute m.
func (r *minuteRing) contains(m int64, id uint32) bool {
	s := r.get(m)
	switch {
	case s == nil:
		return false
	case s.dense != nil:
		return has(s.dense, id)
	case s.bounds != nil:
		return s.bounds.Contains(id)
	}
	return false
}

// cardinality returns the size of the boundary set of minute m.
func (r *minuteRing) cardinality(m int64) uint64 {
	s := r.get(m)
	switch {
	case s == nil:
		return 0
	case s.dense != nil:
		n := 0
		for _, w := range s.dense {
			n += bits.OnesCount64(w)
		}
		return uint64(n)
	case s.bounds != nil:
		return s.bounds.GetCardinality()
	}
	return 0
}

// seal compresses the staged boundary set of minute m, if any, into its roaring bitmap.
func (r *minuteRing) seal(m int64) {
	s := r.get(m)
	if s == nil || s.dense == nil {
		return
	}
	if s.bounds == nil {
		s.bounds = roaring.New()
	} else {
		s.bounds.Clear()
	}
	s.bounds.FromDense(s.dense, true)
	r.unstage(m, s)
}

// unstage forgets the staged set of minute m, whose slot is s.
func (r *minuteRing) unstage(m int64, s *minuteSlot) {
	r.recycle(s.dense)
	s.dense = nil
	if i := slices.Index(r.staged, m); i >= 0 {
		r.staged = slices.Delete(r.staged, i, i+1)
	}
}

// bitset returns an empty bitset, with the length of the last one when it is a reused one.
func (r *minuteRing) bitset() []uint64 {
	if n := len(r.spare); n > 0 {
		b := r.spare[n-1]
		r.spare = r.spare[:n-1]
		return b
	}
	return make([]uint64, 0, 64)
}

func (r *minuteRing) recycle(b []uint64) {
	if len(r.spare) < maxStaged {
		clear(b)
		r.spare = append(r.spare, b)
	}
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
		if s.dense != nil {
			r.unstage(m, s)
		}
		s.cells = s.cells[:0]
	}
	r.lo = min(cut, r.end)
}
