package engine

import (
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/recordusage/recordusage/window"
)

// minuteCell is the state of one minute of one series that has a session boundary or a change
// of the spanning counter. Minutes without either have no cell.
type minuteCell struct {
	minute int64
	bounds *roaring.Bitmap // recordings with a session boundary in this minute; nil when none
	diff   int32           // change of the spanning counter at this minute
	span   int32           // spanning counter at this minute, valid up to the frontier and below dirtyFrom
}

func (c *minuteCell) boundCount() uint32 {
	if c.bounds == nil {
		return 0
	}
	return uint32(c.bounds.GetCardinality())
}

// hourState is one hour of one series: its window and what was last emitted for it.
type hourState struct {
	w       window.Hour
	sent    window.Peak // last emitted value
	sentOK  bool        // something was emitted for this hour
	pending bool        // in the series' pending list
}

// series is the minute state of a project (domain == "" and all == true) or of one of its
// domains: the cells of the retained minutes that have activity, and the hours not yet final.
// Cells are sparse, so a series whose recordings are all long-running costs no memory per minute.
type series struct {
	key             string // in Engine.seriesIDs
	project, domain string
	all             bool
	refs            int  // recordings that count in this series
	live            bool // in Engine.live

	first    int64        // minutes before it are released
	head     int          // cells before head are released; compacted away once they are many
	cells    []minuteCell // cells[head:], ascending by minute, all at or after first
	spanBase int32        // spanning counter at minute first-1

	dirtyFrom int64 // lowest minute whose count must be recomputed; math.MaxInt64 when clean
	hours     map[int64]*hourState
	pending   []int64 // hours whose peak may have changed since the last emission

	lastHour      int64      // the hour of lastHourState
	lastHourState *hourState // the hour set last; nil when it may be gone from hours
}

const clean = math.MaxInt64

func newSeries(key, project, domain string, all bool, first int64) *series {
	return &series{key: key, project: project, domain: domain, all: all, first: first, dirtyFrom: clean,
		hours: make(map[int64]*hourState)}
}

// search returns the index of the first live cell at or after minute m.
func (s *series) search(m int64) int {
	live := s.cells[s.head:]
	n := len(live)
	switch {
	case n == 0 || live[n-1].minute < m:
		return len(s.cells) // the common cases: the newest minute, or a minute after it
	case live[n-1].minute == m:
		return len(s.cells) - 1
	}
	return s.head + sort.Search(len(live), func(i int) bool { return live[i].minute >= m })
}

// cell returns the cell of minute m, creating it. The pointer is valid until the next call.
// m must not be below s.first.
func (s *series) cell(m int64) *minuteCell {
	if m < s.first {
		panic("engine: minute below the released range") // an invariant broken, not bad input
	}
	i := s.search(m)
	if i < len(s.cells) && s.cells[i].minute == m {
		return &s.cells[i]
	}
	s.cells = append(s.cells, minuteCell{})
	copy(s.cells[i+1:], s.cells[i:])
	s.cells[i] = minuteCell{minute: m}
	return &s.cells[i]
}

// spanBefore returns the spanning counter at minute m-1 from the cached spans; m-1 must not be
// after the frontier.
func (s *series) spanBefore(m int64) int32 {
	if i := s.search(m); i > s.head {
		return s.cells[i-1].span // no cell between it and m-1: the counter stayed
	}
	return s.spanBase
}

// recount recomputes C(m) for minutes from..to and stores them in the hours' windows.
func (s *series) recount(from, to int64) {
	from = max(from, s.first)
	if from > to {
		return
	}
	i := s.search(from)
	span := s.spanBefore(from)
	for m := from; m <= to; m++ {
		var bounds uint32
		if i < len(s.cells) && s.cells[i].minute == m {
			c := &s.cells[i]
			span += c.diff
			c.span = span
			bounds = c.boundCount()
			i++
		}
		s.setCount(m, bounds+uint32(span))
	}
}

// setCount stores C(m) in the window of its hour.
func (s *series) setCount(m int64, count uint32) {
	hour := floorDiv(m, 60)
	h := s.lastHourState
	if h == nil || s.lastHour != hour {
		h = s.hours[hour]
		if h == nil {
			if count == 0 {
				return // an hour without activity needs no state: it reads as 0 at hh:00
			}
			h = &hourState{}
			s.hours[hour] = h
		}
		s.lastHour, s.lastHourState = hour, h // the minute tick sets the same hour 60 times
	}
	if _, changed := h.w.Set(int(m-hour*60), count); changed && !h.pending {
		h.pending = true
		s.pending = append(s.pending, hour)
	}
}

// release drops the cells of minutes before cut, folding their spanning differences.
func (s *series) release(cut int64) {
	if cut <= s.first {
		return
	}
	s.first = cut
	i := s.search(cut)
	if i == s.head {
		return
	}
	s.spanBase = s.cells[i-1].span
	clear(s.cells[s.head:i])
	s.head = i
	if s.head == len(s.cells) {
		s.cells, s.head = s.cells[:0], 0
	} else if s.head >= 16 && s.head*2 >= len(s.cells) {
		// Compact rarely rather than copy on every release: the minute tick stays cheap.
		rest := copy(s.cells, s.cells[s.head:])
		clear(s.cells[rest:])
		s.cells, s.head = s.cells[:rest], 0
	}
}

// quiet reports whether the series has nothing to count or publish: no retained cell, no
// spanning session, no hour awaiting finality. The minute tick can skip it.
func (s *series) quiet() bool {
	return s.head == len(s.cells) && s.spanBase == 0 && len(s.hours) == 0
}

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

const nsPerMinute = int64(60e9)

// minuteOf returns the minute (since the Unix epoch) holding the time t in Unix nanoseconds.
func minuteOf(t int64) int64 { return floorDiv(t, nsPerMinute) }
