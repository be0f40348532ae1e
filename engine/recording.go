package engine

import (
	"math"
	"sort"

	"github.com/recordusage/recordusage/event"
)

// histEvent is one start or stop of a recording that is still within the correction horizon,
// kept so that a late event can be placed among the others and the sessions recomputed.
//
// It is 16 bytes, so that a recording's history block spans three cache lines rather than four:
// the offset and the type share a word.
type histEvent struct {
	time int64 // event time, Unix nanoseconds
	ot   int64 // off<<typeBits | typ
}

// typeBits is the number of low bits of histEvent.ot that hold the event type.
const typeBits = 3

// Offsets are arrival orders within the partition (Kafka offsets): those of a histEvent lie in
// [minOffset, maxOffset], far beyond any partition's.
const (
	maxOffset = math.MaxInt64 >> typeBits
	minOffset = math.MinInt64 >> typeBits
)

func newHistEvent(time, off int64, typ event.Type) histEvent {
	return histEvent{time: time, ot: off<<typeBits | int64(typ)}
}

// off returns the arrival order of the event (the Kafka offset): it breaks ties in time.
func (h histEvent) off() int64 { return h.ot >> typeBits }

func (h histEvent) typ() event.Type { return event.Type(h.ot & (1<<typeBits - 1)) }

// before orders events by time, then by arrival.
func (a histEvent) before(b histEvent) bool {
	return a.time < b.time || (a.time == b.time && a.off() < b.off())
}

// recording is the state of one recording. Events that fell behind the correction horizon are
// folded, once an hour (sweep), into the state of its history block (histBlock.since); the rest
// stay in the block (history.go), sorted by (time, off). The recording itself keeps what an
// event after all the others needs — the common case, which then reads neither the block's
// events nor replays them (appendNewest): the session going on after the newest event, and that
// event's time. The struct holds no pointer, so the slice of all recordings is never scanned by
// the garbage collector, and it is 32 bytes, two to a cache line.
type recording struct {
	cur  int64  // start time of the session going on after the newest event; noSession when none
	last int64  // time of the newest event in the history block; meaningless when hist == 0
	key  uint32 // arena offset of the dictionary key; keyNone while the slot is free
	all  uint32 // id of the project's series
	dom  uint32 // id of the (project, domain) series
	hist uint32 // block of the recent events in Engine.hist; 0 when there are none
}

const noSession = math.MinInt64

// insertPos returns where ev goes in the sorted history, or -1 if an exact duplicate (same type
// and time) is already there: CONTRACT.md §3 says a duplicate has no effect, wherever it arrives.
func insertPos(hist []histEvent, ev histEvent) int {
	n := len(hist)
	if n == 0 || hist[n-1].before(ev) {
		// The common case: the newest event of the recording. Only events at the same time as
		// the last one can be duplicates.
		for i := n - 1; i >= 0 && hist[i].time == ev.time; i-- {
			if hist[i].typ() == ev.typ() {
				return -1
			}
		}
		return n
	}
	lo := sort.Search(n, func(i int) bool { return hist[i].time >= ev.time })
	for i := lo; i < n && hist[i].time == ev.time; i++ {
		if hist[i].typ() == ev.typ() {
			return -1
		}
	}
	return sort.Search(n, func(i int) bool { return ev.before(hist[i]) })
}

// replay applies evs to the state (open, since) and returns the state after them.
func replay(open bool, since int64, evs []histEvent) (bool, int64) {
	for _, h := range evs {
		switch {
		case h.typ().Opens() && !open:
			open, since = true, h.time
		case h.typ().Closes():
			open = false
		}
	}
	return open, since
}

// fold moves the events of hist, the events of block b, before minute cut into the block's
// folded state and returns the rest.
func (b *histBlock) fold(hist []histEvent, cut int64) []histEvent {
	n := 0
	for n < len(hist) && minuteOf(hist[n].time) < cut {
		n++
	}
	if n == 0 {
		return hist
	}
	open, since := replay(b.since != noSession, b.since, hist[:n])
	b.since = noSession
	if open {
		b.since = since
	}
	rest := copy(hist, hist[n:])
	clear(hist[rest:])
	return hist[:rest]
}

// cellDelta is a change of one minute's counters in a series (see minuteCell).
type cellDelta struct {
	minute int64
	bounds int32 // change of the number of recordings with a session boundary in the minute
	net    int32 // change of sessions going on after the minute, minus sessions that ended in it
	down   int32 // change of sessions that ended in the minute after starting before it
}

// contribution is what a run of sessions of one recording adds to its series: the minutes where
// it has a session boundary, and the changes of the session counters. Both are ascending by
// minute. Every counter change is in the minute of the event that causes it, so an event touches
// the cell of its own minute and no other.
type contribution struct {
	bounds []int64
	deltas []cellDelta
}

func (c *contribution) reset() {
	c.bounds = c.bounds[:0]
	c.deltas = c.deltas[:0]
}

func (c *contribution) bound(m int64) {
	if n := len(c.bounds); n == 0 || c.bounds[n-1] != m {
		c.bounds = append(c.bounds, m)
	}
}

func (c *contribution) delta(m int64, net, down int32) {
	if n := len(c.deltas); n > 0 && c.deltas[n-1].minute == m {
		d := &c.deltas[n-1]
		d.net += net
		d.down += down
		if d.net == 0 && d.down == 0 {
			c.deltas = c.deltas[:n-1]
		}
		return
	}
	c.deltas = append(c.deltas, cellDelta{minute: m, net: net, down: down})
}

// walk computes the contribution of the sessions that follow from the state (open, since) and
// the events evs. A session open at the start is included whole, so that two walks from the
// same state differ only where their events differ.
func (c *contribution) walk(open bool, since int64, evs []histEvent) {
	c.reset()
	if open {
		c.openSession(since)
	}
	for _, h := range evs {
		switch {
		case h.typ().Opens():
			if !open {
				open, since = true, h.time
				c.openSession(since)
			}
		case h.typ().Closes():
			if open {
				c.closeSession(since, h.time)
				open = false
			} else {
				c.bound(minuteOf(h.time)) // a stop without a start: a session of one instant
			}
		}
	}
}

// openSession counts a session from its first minute on: it goes on after that minute until a
// stop says otherwise.
func (c *contribution) openSession(since int64) {
	s := minuteOf(since)
	c.bound(s)
	c.delta(s, +1, 0)
}

// closeSession ends a session in the minute of its stop. A session that ends in its first minute
// never went on after it: the stop cancels the start's change instead.
func (c *contribution) closeSession(since, until int64) {
	s, e := minuteOf(since), minuteOf(until)
	c.bound(e)
	if e == s {
		c.delta(s, -1, 0)
	} else {
		c.delta(e, -1, +1)
	}
}
