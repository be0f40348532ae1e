package engine

import (
	"fmt"
	"slices"

	"github.com/recordusage/recordusage/internal/invariants"
)

// checkInvariants verifies the engine's redundant state — the lists that mirror flags and the
// caches that mirror maps — and panics with what is broken. Flush calls it when
// invariants.Enabled (under -race, and with -tags invariants); it walks the whole state.
func (e *Engine) checkInvariants() {
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("engine: invariant broken: "+format, args...))
	}
	inLive := make(map[uint32]bool, len(e.live))
	for _, sid := range e.live {
		if int(sid) >= len(e.series) || e.series[sid] == nil {
			fail("live list holds series %d, which is free", sid)
		}
		if inLive[sid] {
			fail("live list holds series %d twice", sid)
		}
		if !e.series[sid].live {
			fail("series %d is in the live list without its live flag", sid)
		}
		inLive[sid] = true
	}
	inDirty := make(map[uint32]bool, len(e.dirty))
	for _, sid := range e.dirty {
		inDirty[sid] = true
	}
	refs := make([]int, len(e.series))
	blockOwner := make(map[uint32]int, len(e.recs))
	for _, b := range e.hist.free {
		blockOwner[b] = -1
	}
	free := make(map[uint32]bool, len(e.freeIDs))
	for _, id := range e.freeIDs {
		if e.recs[id].key != keyNone {
			fail("recording %d is in the free list but has a key", id)
		}
		free[id] = true
	}
	for id := range e.recs {
		r := &e.recs[id]
		if r.key == keyNone {
			if !free[uint32(id)] {
				fail("recording %d has no key and is not in the free list", id)
			}
			continue
		}
		for _, sid := range [2]uint32{r.all, r.dom} {
			if int(sid) >= len(e.series) || e.series[sid] == nil {
				fail("recording %d counts in series %d, which is free", id, sid)
			}
			refs[sid]++
		}
		if (r.hist != 0) != e.withHist.Contains(uint32(id)) {
			fail("recording %d: history block %d, in the bitmap of recordings with one %v", id, r.hist, e.withHist.Contains(uint32(id)))
		}
		if r.hist != 0 {
			if owner, ok := blockOwner[r.hist]; ok {
				fail("recording %d has history block %d, which is free or recording %d's", id, r.hist, owner)
			}
			blockOwner[r.hist] = id
			if b := &e.hist.blocks[r.hist]; (b.sp == 0 && b.n > histInline) || (b.sp != 0 && len(e.hist.spill[b.sp]) <= histInline) {
				fail("recording %d: history block %d holds %d events inline, spill %d", id, r.hist, b.n, b.sp)
			}
		}
		hist := e.history(r)
		for _, h := range hist {
			if minuteOf(h.time) < e.swept {
				fail("recording %d keeps an event of minute %d, swept before %d", id, minuteOf(h.time), e.swept)
			}
		}
		// The recording's summary of its newest event, which appendNewest relies on.
		open, since := e.folded(r)
		if open, since = replay(open, since, hist); !open {
			since = noSession
		}
		if r.cur != since {
			fail("recording %d: current session since %d, its events say %d", id, r.cur, since)
		}
		if n := len(hist); n > 0 && r.last != hist[n-1].time {
			fail("recording %d: newest event at %d, its history's at %d", id, r.last, hist[n-1].time)
		}
	}
	withHist := 0
	for id := range e.recs {
		if e.recs[id].key != keyNone && e.recs[id].hist != 0 {
			withHist++
		}
	}
	if uint64(withHist) != e.withHist.GetCardinality() {
		fail("%d recordings have a history block, the bitmap of them holds %d", withHist, e.withHist.GetCardinality())
	}
	if len(e.hist.blocks) > 0 && len(blockOwner) != len(e.hist.blocks)-1 {
		fail("%d history blocks, %d in use or free", len(e.hist.blocks)-1, len(blockOwner))
	}
	if len(e.batch.evs) != 0 {
		fail("%d queued events after a Flush", len(e.batch.evs))
	}
	series := 0
	for sid, s := range e.series {
		if s == nil {
			if !slices.Contains(e.freeSer, uint32(sid)) {
				fail("series %d is nil and not in the free list", sid)
			}
			continue
		}
		series++
		if got, ok := e.seriesIDs[s.key]; !ok || got != uint32(sid) {
			fail("series %d (%q/%q) is not indexed under its key", sid, s.project, s.domain)
		}
		if s.refs != refs[sid] {
			fail("series %d counts %d recordings, %d refer to it", sid, s.refs, refs[sid])
		}
		if s.live != inLive[uint32(sid)] {
			fail("series %d: live flag %v, in the live list %v", sid, s.live, inLive[uint32(sid)])
		}
		if s.dirtyFrom != clean && !inDirty[uint32(sid)] {
			fail("series %d is dirty from minute %d but not in the dirty list", sid, s.dirtyFrom)
		}
		if s.head > len(s.cells) {
			fail("series %d: head %d after its %d cells", sid, s.head, len(s.cells))
		}
		for i := s.head; i < len(s.cells); i++ {
			if c := s.cells[i].minute; c < s.first || (i > s.head && c <= s.cells[i-1].minute) {
				fail("series %d: cell of minute %d out of order or before minute %d", sid, c, s.first)
			}
		}
		pending := make(map[int64]bool, len(s.pending))
		for _, hour := range s.pending {
			pending[hour] = true
		}
		for i, he := range s.hours.list {
			hour, h := he.hour, he.state
			if i > 0 && hour <= s.hours.list[i-1].hour {
				fail("series %d: hour %d out of order", sid, hour)
			}
			if hour < e.finalTo {
				fail("series %d keeps hour %d, which is final (before %d)", sid, hour, e.finalTo)
			}
			if h.pending && !pending[hour] {
				fail("series %d: hour %d is flagged pending but not in the pending list", sid, hour)
			}
		}
		if s.lastHourState != nil && s.hours.get(s.lastHour) != s.lastHourState {
			fail("series %d: the last-hour cache points at a state that is not hour %d's", sid, s.lastHour)
		}
	}
	if series != len(e.seriesIDs) {
		fail("%d series, %d in the index", series, len(e.seriesIDs))
	}
	if e.minutes.end > e.minutes.lo && e.minutes.lo < e.released {
		fail("the minute ring starts at %d, before the released minute %d", e.minutes.lo, e.released)
	}
	e.checkBoundarySets(fail)
}

// checkBoundarySets verifies that the boundary set of every retained minute holds exactly the
// recordings whose events put a session boundary in it, and that only minutes after the
// frontier are staged.
func (e *Engine) checkBoundarySets(fail func(string, ...any)) {
	want := map[int64][]uint32{}
	for id := range e.recs {
		r := &e.recs[id]
		if r.key == keyNone {
			continue
		}
		open, since := e.folded(r)
		e.new.walk(open, since, e.history(r))
		for _, m := range e.new.bounds {
			if m >= e.released {
				want[m] = append(want[m], uint32(id))
			}
		}
	}
	e.new.reset()
	for m, ids := range want {
		if m < e.minutes.lo || m >= e.minutes.end {
			fail("minute %d has boundaries but no slot (slots %d..%d)", m, e.minutes.lo, e.minutes.end-1)
		}
		for _, id := range ids {
			if !e.minutes.contains(m, id) {
				fail("recording %d has a boundary in minute %d, missing from its set", id, m)
			}
		}
	}
	staged := 0
	for m := max(e.minutes.lo, e.released); m < e.minutes.end; m++ {
		if got := e.minutes.cardinality(m); got != uint64(len(want[m])) {
			fail("minute %d: %d recordings in its boundary set, %d with a boundary in it", m, got, len(want[m]))
		}
		if s := e.minutes.get(m); s.dense != nil {
			staged++
			if m <= e.frontier {
				fail("minute %d is staged, at or before the frontier %d", m, e.frontier)
			}
			if !slices.Contains(e.minutes.staged, m) {
				fail("minute %d is staged but not in the list of staged minutes", m)
			}
		}
	}
	if staged != len(e.minutes.staged) || staged > maxStaged {
		fail("%d minutes staged, %d in the list of them (at most %d)", staged, len(e.minutes.staged), maxStaged)
	}
}

// invariantsOn reports whether Flush checks the invariants in this build.
func invariantsOn() bool { return invariants.Enabled }
