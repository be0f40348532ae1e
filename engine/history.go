package engine

// histories holds the recent events of the recordings (recording.hist indexes it) in a slab of
// fixed-size blocks with no pointer: a recording's events are one load away from the recording,
// in one block whose header and events are contiguous, instead of behind a slice header and a
// separately allocated array (two cache misses per event), and the garbage collector never scans
// the slab. The few recordings with more recent events than a block holds (frequent restarts)
// spill into a slice of their own until they are folded down again (see sweep).
type histories struct {
	blocks []histBlock // index 0 is unused: recording.hist == 0 means no history
	free   []uint32    // free blocks
	spill  [][]histEvent
	freeSp []uint32 // free spill lists; index 0 of spill is unused
}

// histInline is the number of events a block holds. With the default 2-hour correction horizon a
// recording that switches every 20 minutes keeps about 6 events; 10 cover nearly all of them.
const histInline = 10

// histBlock is one recording's recent events, sorted by (time, off): ev[:n], or spill[sp] when
// they did not fit; and the state that the events folded before them left. It is 176 bytes: the
// header and the first three events share a cache line.
type histBlock struct {
	n     uint32
	sp    uint32 // index in histories.spill; 0 when the events are inline
	since int64  // start time of the session that the folded events left open; noSession when none
	ev    [histInline]histEvent
}

// get returns the events of block i (none for block 0). The slice aliases the block: it is
// valid until the next alloc, and changes through it must be stored back with put.
func (h *histories) get(i uint32) []histEvent {
	b := &h.blocks[i]
	if b.sp != 0 {
		return h.spill[b.sp]
	}
	return b.ev[:b.n]
}

// put stores evs as the events of block i (i != 0). evs is what get returned, changed in place
// or grown by append.
func (h *histories) put(i uint32, evs []histEvent) {
	b := &h.blocks[i]
	switch {
	case len(evs) <= histInline:
		if len(evs) > 0 && &evs[0] != &b.ev[0] {
			copy(b.ev[:], evs) // back inline from a spill list
		}
		if b.sp != 0 {
			h.dropSpill(b.sp)
			b.sp = 0
		}
		b.n = uint32(len(evs))
	case b.sp != 0:
		h.spill[b.sp] = evs
	default:
		b.sp = h.newSpill(evs)
	}
}

// alloc returns an empty block whose folded state is the session started at since (noSession
// when none).
func (h *histories) alloc(since int64) uint32 {
	if len(h.blocks) == 0 {
		h.blocks = make([]histBlock, 1, 64)
	}
	if n := len(h.free); n > 0 {
		i := h.free[n-1]
		h.free = h.free[:n-1]
		h.blocks[i].since = since
		return i
	}
	h.blocks = append(h.blocks, histBlock{since: since})
	return uint32(len(h.blocks) - 1)
}

// release returns block i to the free list.
func (h *histories) release(i uint32) {
	b := &h.blocks[i]
	if b.sp != 0 {
		h.dropSpill(b.sp)
	}
	b.n, b.sp = 0, 0
	h.free = append(h.free, i)
}

func (h *histories) newSpill(evs []histEvent) uint32 {
	if len(h.spill) == 0 {
		h.spill = make([][]histEvent, 1)
	}
	if n := len(h.freeSp); n > 0 {
		i := h.freeSp[n-1]
		h.freeSp = h.freeSp[:n-1]
		h.spill[i] = evs
		return i
	}
	h.spill = append(h.spill, evs)
	return uint32(len(h.spill) - 1)
}

func (h *histories) dropSpill(i uint32) {
	h.spill[i] = nil
	h.freeSp = append(h.freeSp, i)
}

// compact renumbers the blocks once most of the slab is free, so that a burst of recordings does
// not leave a large slab behind; the recordings' indexes follow.
func (h *histories) compact(recs []recording) {
	if len(h.free) < 1<<14 || len(h.free)*2 < len(h.blocks) {
		return
	}
	blocks := make([]histBlock, 1, len(h.blocks)-len(h.free))
	for i := range recs {
		if r := &recs[i]; r.hist != 0 {
			blocks = append(blocks, h.blocks[r.hist])
			r.hist = uint32(len(blocks) - 1)
		}
	}
	h.blocks, h.free = blocks, nil
}

// events returns the number of events held, for Stats.
func (h *histories) events(i uint32) int {
	if i == 0 {
		return 0
	}
	return len(h.get(i))
}
