package engine

import (
	"math"
	"slices"

	"github.com/recordusage/recordusage/window"
)

// minuteCell is the state of one minute of one series in which a recording of the series has a
// session boundary (a start or a stop). Minutes without one have no cell: they count like the
// minute after the cell before them.
//
// Let S(m) be the number of sessions of the series that started before minute m and had not
// ended before it. Then C(m) = bounds + S(m) − down: the recordings with a boundary in m, plus
// the sessions spanning m strictly (S(m) less those that end in m). A session that spans m
// strictly covers all of it, so no other session of the same recording touches m and nothing is
// counted twice. S(m+1) = S(m) + net, and in a minute without a cell C = S. Every event changes
// the cell of its own minute only, and the struct holds no pointer, so the garbage collector
// never scans the cells.
type minuteCell struct {
	minute int64
	bounds int32 // recordings of the series in the minute's boundary bitmap (minuteSlot.bounds)
	net    int32 // sessions that start in the minute and go on, less those that started before and end in it
	down   int32 // sessions that started before the minute and end in it
	run    int32 // S(minute); valid up to the frontier and below dirtyFrom
}

// empty reports whether no session has a boundary in the cell's minute any more (a late event
// moved them all away): the minute counts like one without a cell.
func (c *minuteCell) empty() bool { return c.bounds == 0 && c.net == 0 && c.down == 0 }

func (c *minuteCell) count() uint32 { return uint32(c.bounds - c.down + c.run) }

// hourState is one hour of one series: its window and what was last emitted for it.
type hourState struct {
	w       window.Hour
	sent    window.Peak // last emitted value
	sentOK  bool        // something was emitted for this hour
	pending bool        // in the series' pending list
}

// series is the minute state of a project (domain == "" and all == true) or of one of its
// domains: the cells of the retained minutes that have a session boundary, and the hours not yet
// final. Cells are sparse, so a series whose recordings are all long-running costs no memory per
// minute.
//
// The windows of its hours hold C(m) for the published minutes that have a cell or start an
// hour, and 0 for the others. That is enough for the peaks to be exact: a minute without a cell
// counts S, which is at most the count of the cell before it (the sessions that go on after a
// minute all have a boundary in it or span it) and equal to the count of an hour's first minute
// when no cell came since; it never beats an earlier minute of its hour, and the earliest minute
// wins a tie. So the minute tick touches only the series with a cell in the new minutes, and
// every series once an hour, instead of every series every minute.
type series struct {
	// The fields that Apply and the minute tick use come first, so that they share cache lines.
	cells     []minuteCell // cells[head:], ascending by minute, all at or after first
	head      int          // cells before head are released; compacted away once they are many
	first     int64        // minutes before it are released
	dirtyFrom int64        // lowest minute whose count must be recomputed; math.MaxInt64 when clean
	ticked    int64        // the frontier of the last minute tick that recounted the series
	runBase   int32        // S(first)
	live      bool         // in Engine.live

	pool          *hourPool  // the engine's, where dropped hours go and new ones come from
	lastHour      int64      // the hour of lastHourState
	lastHourState *hourState // the hour set last; nil when it may be gone from hours
	hours         hourList
	pending       []int64 // hours whose peak may have changed since the last emission

	key             string // in Engine.seriesIDs
	project, domain string
	all             bool
	refs            int // recordings that count in this series
}

const clean = math.MaxInt64

func newSeries(key, project, domain string, all bool, first int64) *series {
	return &series{key: key, project: project, domain: domain, all: all, first: first, dirtyFrom: clean}
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
	// Most searches are for a minute near the newest — the minute tick's first new minute, an
	// event a little out of order — so look at the last few cells before bisecting.
	for i := n - 2; i >= max(0, n-8); i-- {
		if live[i].minute < m {
			return s.head + i + 1
		}
	}
	lo, hi := 0, n-1 // live[hi].minute >= m
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if live[mid].minute < m {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return s.head + lo
}

// cell returns the cell of minute m, creating it, and whether it is new. The pointer is valid
// until the next call. m must not be below s.first.
func (s *series) cell(m int64) (*minuteCell, bool) {
	if m < s.first {
		panic("engine: minute below the released range") // an invariant broken, not bad input
	}
	i := s.search(m)
	if i < len(s.cells) && s.cells[i].minute == m {
		return &s.cells[i], false
	}
	s.cells = append(s.cells, minuteCell{})
	copy(s.cells[i+1:], s.cells[i:])
	s.cells[i] = minuteCell{minute: m}
	return &s.cells[i], true
}

// runBefore returns S at the minute of cells[i] (or at any minute after cells[i-1] and up to
// it), from the cached runs: the cell before i must be at or before the frontier and clean.
func (s *series) runBefore(i int) int32 {
	if i > s.head {
		c := &s.cells[i-1]
		return c.run + c.net
	}
	return s.runBase
}

// recount recomputes C for the minutes from..to that have a cell or start an hour, stores them
// in the hours' windows, and drops the cells that became empty.
func (s *series) recount(from, to int64) {
	from = max(from, s.first)
	if from > to {
		return
	}
	i := s.search(from)
	run := s.runBefore(i)
	hour := floorDiv(from+59, 60) * 60 // the first hour start at or after from
	for i < len(s.cells) && s.cells[i].minute <= to {
		c := &s.cells[i]
		for ; hour < c.minute; hour += 60 {
			s.setCount(hour, uint32(run))
		}
		if c.empty() {
			// Its minute now counts S like any minute without a cell: the window keeps it only
			// when it starts an hour.
			if hour == c.minute {
				s.setCount(c.minute, uint32(run))
				hour += 60
			} else {
				s.setCount(c.minute, 0)
			}
			s.cells = append(s.cells[:i], s.cells[i+1:]...)
			continue
		}
		if hour == c.minute {
			hour += 60
		}
		c.run = run
		s.setCount(c.minute, c.count())
		run += c.net
		i++
	}
	for ; hour <= to; hour += 60 {
		s.setCount(hour, uint32(run))
	}
}

// setCount stores C(m) in the window of its hour.
func (s *series) setCount(m int64, count uint32) {
	hour := floorDiv(m, 60)
	h := s.lastHourState
	if h == nil || s.lastHour != hour {
		h = s.hours.get(hour)
		if h == nil {
			if count == 0 {
				return // an hour without activity needs no state: it reads as 0 at hh:00
			}
			h = s.pool.get()
			s.hours.set(hour, h)
		}
		s.lastHour, s.lastHourState = hour, h // consecutive counts are mostly in one hour
	}
	if _, changed := h.w.Set(int(m-hour*60), count); changed && !h.pending {
		h.pending = true
		s.pending = append(s.pending, hour)
	}
}

// release drops the cells of minutes before cut, folding their changes of S into runBase.
func (s *series) release(cut int64) {
	if cut <= s.first {
		return
	}
	s.first = cut
	i := s.head
	for ; i < len(s.cells) && s.cells[i].minute < cut; i++ {
		s.runBase += s.cells[i].net
	}
	if i == s.head {
		return
	}
	s.head = i
	if s.head == len(s.cells) {
		s.cells, s.head = s.cells[:0], 0
	} else if s.head >= 16 && s.head*2 >= len(s.cells) {
		// Compact rarely rather than copy on every release.
		rest := copy(s.cells, s.cells[s.head:])
		s.cells, s.head = s.cells[:rest], 0
	}
}

// quiet reports whether the series has nothing to count or publish: no retained cell, no
// session going on, no hour awaiting finality. The hourly tick can skip it.
func (s *series) quiet() bool {
	return s.head == len(s.cells) && s.runBase == 0 && s.hours.len() == 0
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

// hourPool keeps the states of hours that became final for the hours that start later: every
// series starts a new hour each hour, and allocating them made most of the engine's garbage.
type hourPool struct{ free []*hourState }

// maxPooledHours bounds the pool, so that a burst of series does not pin its hours.
const maxPooledHours = 1 << 14

func (p *hourPool) get() *hourState {
	if p == nil || len(p.free) == 0 {
		return &hourState{}
	}
	h := p.free[len(p.free)-1]
	p.free[len(p.free)-1] = nil
	p.free = p.free[:len(p.free)-1]
	return h
}

// put takes the state of an hour that nothing refers to any more.
func (p *hourPool) put(h *hourState) {
	if p != nil && len(p.free) < maxPooledHours {
		*h = hourState{}
		p.free = append(p.free, h)
	}
}

// hourList holds the hours of a series that are not final, ascending by hour. There are a handful
// (those of the correction horizon, the current one, a few ahead within the clock skew), so a
// sorted slice is smaller than a map and faster to search, and the final ones are its prefix.
type hourList struct{ list []hourEntry }

type hourEntry struct {
	hour  int64
	state *hourState
}

func (l *hourList) len() int { return len(l.list) }

// get returns the state of hour, or nil.
func (l *hourList) get(hour int64) *hourState {
	for i := len(l.list) - 1; i >= 0; i-- { // mostly the newest
		if e := &l.list[i]; e.hour <= hour {
			if e.hour == hour {
				return e.state
			}
			return nil
		}
	}
	return nil
}

// set stores the state of hour, replacing any.
func (l *hourList) set(hour int64, h *hourState) {
	i := len(l.list)
	for i > 0 && l.list[i-1].hour >= hour {
		i--
	}
	if i < len(l.list) && l.list[i].hour == hour {
		l.list[i].state = h
		return
	}
	l.list = slices.Insert(l.list, i, hourEntry{hour, h})
}

// remove forgets hour.
func (l *hourList) remove(hour int64) {
	for i := range l.list {
		if l.list[i].hour == hour {
			l.list = slices.Delete(l.list, i, i+1)
			return
		}
	}
}
