// Package window keeps the peak of one UTC hour: the 60 per-minute counts of concurrent
// recordings go in, the hour's maximum and the earliest minute reaching it come out.
//
// An Hour is written by the goroutine that owns the partition it belongs to and read, without
// any lock, by any number of other goroutines (metrics, snapshots, tests). Writers are serialized
// by a mutex so that a misuse with two writers stays correct; readers never take it. The peak is
// published as one atomic 64-bit word, so a reader always sees a (count, minute) pair that was
// true at some instant, never a count from one update and a minute from another.
//
// Values can go down: a late stop event removes a recording from minutes it had been counted in,
// and when the minute holding the peak decreases, the hour is rescanned to find the new one.
package window

import (
	"sync"
	"sync/atomic"

	"github.com/recordusage/recordusage/results"
)

// MinutesPerHour is the number of minute slots of an Hour.
const MinutesPerHour = 60

// Peak is an hour's value, the one type every hop uses (results.Peak): the maximum count and the
// earliest minute reaching it.
type Peak = results.Peak

// Hour holds the minute counts of one hour and their peak. The zero value is an hour where every
// minute counts 0. An Hour must not be copied after first use.
type Hour struct {
	mu     sync.Mutex // serializes writers; readers use the atomics only
	counts [MinutesPerHour]atomic.Uint32
	peak   atomic.Uint64 // Peak.Pack()
}

// Set stores the count of minute m (0–59) and returns the hour's peak afterwards and whether it
// changed. It panics if m is out of range, which is a programming error.
func (h *Hour) Set(m int, count uint32) (Peak, bool) {
	if m < 0 || m >= MinutesPerHour {
		panic("window: minute out of range")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := results.UnpackPeak(h.peak.Load())
	if h.counts[m].Load() == count {
		return old, false
	}
	h.counts[m].Store(count)
	cand := Peak{Count: count, Minute: uint8(m)}
	var next Peak
	switch {
	case cand.Better(old):
		next = cand
	case int(old.Minute) == m:
		// The peak minute went down: another minute may now hold the peak.
		next = h.scanLocked()
	default:
		return old, false
	}
	if next == old {
		return old, false
	}
	h.peak.Store(next.Pack())
	return next, true
}

// scanLocked finds the peak from the counts; h.mu must be held.
func (h *Hour) scanLocked() Peak {
	var p Peak
	for m := range h.counts {
		if c := h.counts[m].Load(); c > p.Count {
			p = Peak{Count: c, Minute: uint8(m)}
		}
	}
	return p
}

// Peak returns the hour's current peak. It never blocks.
func (h *Hour) Peak() Peak { return results.UnpackPeak(h.peak.Load()) }

// Count returns the current count of minute m (0–59). It never blocks.
func (h *Hour) Count(m int) uint32 { return h.counts[m].Load() }

// Counts returns a copy of the 60 minute counts, for snapshots. Each count is read atomically;
// a copy taken while a writer is active may mix counts from before and after its update.
func (h *Hour) Counts() [MinutesPerHour]uint32 {
	var c [MinutesPerHour]uint32
	for m := range c {
		c[m] = h.counts[m].Load()
	}
	return c
}

// Load replaces all 60 counts at once (when restoring a snapshot) and recomputes the peak.
func (h *Hour) Load(counts [MinutesPerHour]uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for m, c := range counts {
		h.counts[m].Store(c)
	}
	h.peak.Store(h.scanLocked().Pack())
}
