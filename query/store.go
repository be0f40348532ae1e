package query

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recordusage/recordusage/results"
	"github.com/recordusage/recordusage/window"
)

// BlockHours is the number of consecutive hours of one block of a Series (about 10.7 days).
const BlockHours = 256

// seriesKey names a series: a project and a lower-case domain, "" for the whole project.
type seriesKey struct {
	project string
	domain  string
}

// Store is the in-memory materialization of the results topic. It is safe for concurrent use:
// see the package documentation for its locking.
type Store struct {
	mu struct {
		sync.RWMutex
		series map[seriesKey]*Series // guarded by mu
	}
	blocks atomic.Int64 // number of blocks allocated, for the memory gauge
}

// NewStore returns an empty Store.
func NewStore() *Store {
	s := &Store{}
	s.mu.series = make(map[seriesKey]*Series)
	return s
}

// Series is the hourly peaks of one (project, domain) pair.
type Series struct {
	mu     sync.Mutex               // serializes writers that add or drop blocks; readers never take it
	blocks atomic.Pointer[[]*block] // sorted by first hour; the slice is never modified once published
}

// block holds BlockHours consecutive hours starting at first (Unix hours, a multiple of
// BlockHours). Each hour is a window.Cell: written by the materializer, read lock-free by every
// request; an empty cell is "no data", which reads exactly like a zero hour.
type block struct {
	first int64
	vals  [BlockHours]window.Cell
}

// unixHour returns the number of whole hours between the Unix epoch and t (t aligned to the hour).
func unixHour(t time.Time) int64 {
	return floorDiv(t.Unix(), 3600)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Put stores a decoded record: the latest Put of an hour wins, and a tombstone clears the hour,
// which reads as zero again. The domain is matched case-insensitively, like the publish_domain
// parameter (results.LowerDomain).
func (s *Store) Put(r results.Record) {
	p := r.Peak
	if r.Tombstone {
		p = results.Peak{}
	}
	s.set(r.ProjectID, results.LowerDomain(r.Domain), floorDiv(r.Hour, 3600), p.Canonical())
}

func (s *Store) set(projectID, domain string, hour int64, p results.Peak) {
	ser := s.lookup(projectID, domain)
	if ser == nil {
		if p.Count == 0 {
			return // a zero for a series never seen reads as zero already
		}
		ser = s.create(projectID, domain)
	}
	b := ser.find(hour)
	if b == nil {
		if p.Count == 0 {
			return
		}
		b = s.addBlock(ser, hour)
	}
	b.vals[hour-b.first].Store(p)
}

func (s *Store) lookup(projectID, domain string) *Series {
	s.mu.RLock()
	ser := s.mu.series[seriesKey{projectID, domain}]
	s.mu.RUnlock()
	return ser
}

func (s *Store) create(projectID, domain string) *Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := seriesKey{projectID, domain}
	ser := s.mu.series[k]
	if ser == nil {
		ser = &Series{}
		s.mu.series[k] = ser
	}
	return ser
}

// find returns the block holding hour, or nil. It is lock-free.
func (ser *Series) find(hour int64) *block {
	t := ser.blocks.Load()
	if t == nil {
		return nil
	}
	first := floorDiv(hour, BlockHours) * BlockHours
	bs := *t
	i := sort.Search(len(bs), func(i int) bool { return bs[i].first >= first })
	if i < len(bs) && bs[i].first == first {
		return bs[i]
	}
	return nil
}

// addBlock returns the block holding hour, creating it if needed (copy-on-write of the table).
func (s *Store) addBlock(ser *Series, hour int64) *block {
	ser.mu.Lock()
	defer ser.mu.Unlock()
	if b := ser.find(hour); b != nil {
		return b
	}
	nb := &block{first: floorDiv(hour, BlockHours) * BlockHours}
	var old []*block
	if t := ser.blocks.Load(); t != nil {
		old = *t
	}
	i := sort.Search(len(old), func(i int) bool { return old[i].first >= nb.first })
	table := make([]*block, 0, len(old)+1)
	table = append(table, old[:i]...)
	table = append(table, nb)
	table = append(table, old[i:]...)
	ser.blocks.Store(&table)
	s.blocks.Add(1)
	return nb
}

// Peaks fills dst[i] with the peak of hour start+i of the series (projectID, domain), domain
// "" meaning the whole project and a non-empty domain being lower case; hours without data are
// the zero Peak. start must be aligned to the hour. Peaks does not allocate and takes no lock
// but a read lock for one map lookup.
func (s *Store) Peaks(projectID, domain string, start time.Time, dst []results.Peak) {
	ser := s.lookup(projectID, domain)
	if ser == nil {
		clear(dst)
		return
	}
	t := ser.blocks.Load()
	if t == nil {
		clear(dst)
		return
	}
	bs := *t
	h := unixHour(start)
	firstBlock := floorDiv(h, BlockHours) * BlockHours
	i := sort.Search(len(bs), func(i int) bool { return bs[i].first >= firstBlock })
	for n := 0; n < len(dst); {
		bf := floorDiv(h, BlockHours) * BlockHours
		run := min(int(bf+BlockHours-h), len(dst)-n) // hours left in this block
		for i < len(bs) && bs[i].first < bf {
			i++
		}
		if i < len(bs) && bs[i].first == bf {
			vals := bs[i].vals[h-bf:]
			for j := 0; j < run; j++ {
				dst[n+j] = vals[j].Load()
			}
		} else {
			clear(dst[n : n+run])
		}
		n += run
		h += int64(run)
	}
}

// DropBefore releases every block that ends at or before hour. It bounds memory to the query
// lookback: older hours can never be asked for. Series are kept even when left empty, so that
// a writer holding a *Series never writes into one that is no longer indexed; a write racing
// with the drop of its own block can only be lost for an hour older than the cut-off.
func (s *Store) DropBefore(hour time.Time) {
	h := unixHour(hour)
	s.mu.RLock()
	all := make([]*Series, 0, len(s.mu.series))
	for _, ser := range s.mu.series {
		all = append(all, ser)
	}
	s.mu.RUnlock()
	for _, ser := range all {
		ser.mu.Lock()
		if t := ser.blocks.Load(); t != nil {
			old := *t
			n := 0
			for n < len(old) && old[n].first+BlockHours <= h {
				n++
			}
			if n > 0 {
				table := append([]*block(nil), old[n:]...)
				ser.blocks.Store(&table)
				s.blocks.Add(-int64(n))
			}
		}
		ser.mu.Unlock()
	}
}

// Stats reports the number of series and of allocated blocks (each about 2 KiB).
func (s *Store) Stats() (series int, blocks int64) {
	s.mu.RLock()
	series = len(s.mu.series)
	s.mu.RUnlock()
	return series, s.blocks.Load()
}
