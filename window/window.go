// Package window keeps the peak of UTC hours, in the two places the product needs one.
//
// An Hour is an engine's working state for one hour of one series: the per-minute counts of
// concurrent recordings go in, the hour's maximum and the earliest minute reaching it come out.
// It belongs to the goroutine of the partition whose engine holds it, like the rest of the
// engine's state, so it takes no lock and uses no atomics.
//
// A Cell is an hour's published peak as the query service holds it: written by the goroutine
// that materializes a results partition and read, without any lock, by every API request at the
// same time. The peak is one atomic 64-bit word (results.Peak.Pack), so a reader always sees a
// (count, minute) pair that was true at some instant, never a count from one update and a minute
// from another, and never waits for a writer.
//
// Values can go down: a late stop event removes a recording from minutes it had been counted in,
// and when the minute holding the peak decreases, the hour is rescanned to find the new one.
package window

import (
	"sync/atomic"

	"github.com/recordusage/recordusage/results"
)

// MinutesPerHour is the number of minute slots of an Hour.
const MinutesPerHour = 60

// Peak is an hour's value, the one type every hop uses (results.Peak): the maximum count and the
// earliest minute reaching it.
type Peak = results.Peak

// Hour holds the minute counts of one hour and their peak. The zero value is an hour where every
// minute counts 0. It is not safe for concurrent use: it has one owner.
type Hour struct {
	counts [MinutesPerHour]uint32
	peak   Peak
}

// Set stores the count of minute m (0–59) and returns the hour's peak afterwards and whether it
// changed. It panics if m is out of range, which is a programming error.
func (h *Hour) Set(m int, count uint32) (Peak, bool) {
	if m < 0 || m >= MinutesPerHour {
		panic("window: minute out of range")
	}
	old := h.peak
	if h.counts[m] == count {
		return old, false
	}
	h.counts[m] = count
	cand := Peak{Count: count, Minute: uint8(m)}
	var next Peak
	switch {
	case cand.Better(old):
		next = cand
	case int(old.Minute) == m:
		// The peak minute went down: another minute may now hold the peak.
		next = h.scan()
	default:
		return old, false
	}
	if next == old {
		return old, false
	}
	h.peak = next
	return next, true
}

// scan finds the peak from the counts.
func (h *Hour) scan() Peak {
	var p Peak
	for m, c := range h.counts {
		if c > p.Count {
			p = Peak{Count: c, Minute: uint8(m)}
		}
	}
	return p
}

// Peak returns the hour's current peak.
func (h *Hour) Peak() Peak { return h.peak }

// Count returns the current count of minute m (0–59).
func (h *Hour) Count(m int) uint32 { return h.counts[m] }

// Counts returns a copy of the 60 minute counts, for snapshots.
func (h *Hour) Counts() [MinutesPerHour]uint32 { return h.counts }

// Load replaces all 60 counts at once (when restoring a snapshot) and recomputes the peak.
func (h *Hour) Load(counts [MinutesPerHour]uint32) {
	h.counts = counts
	h.peak = h.scan()
}

// Cell is one hour's published peak, readable lock-free while it is written (see the package
// documentation). The zero value holds the zero Peak: an hour without data reads as 0 at hh:00.
// Writes to one Cell must come from one goroutine at a time, so that the latest write wins.
type Cell struct {
	w atomic.Uint64 // Peak.Pack()
}

// Load returns the peak. It never blocks.
func (c *Cell) Load() Peak { return results.UnpackPeak(c.w.Load()) }

// Store sets the peak (a zero Peak clears the hour).
func (c *Cell) Store(p Peak) { c.w.Store(p.Pack()) }

// Empty reports whether the cell holds the zero Peak.
func (c *Cell) Empty() bool { return c.w.Load() == 0 }
