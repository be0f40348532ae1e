package peers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/results"
)

// Series names a project's whole-project series (Domain "") or one of its domains' (lower case).
type Series struct {
	Project, Domain string
}

// HourKey names one hour of a series; Hour is in Unix seconds, aligned to the hour.
type HourKey struct {
	Series
	Hour int64
}

// Table is the answer every system computes: the peak of every hour with a non-zero peak. An
// hour missing from it is zero, reported at the hour itself (CONTRACT.md §3).
type Table map[HourKey]api.Peak

// Range is the hours a comparison looks at: every series of the workload, from First to Last
// (Unix seconds, aligned to the hour, both included).
type Range struct {
	Series      []Series
	First, Last int64
}

// hours calls fn for every hour of the range.
func (r Range) hours(fn func(HourKey)) {
	for _, s := range r.Series {
		for h := r.First; h <= r.Last; h += 3600 {
			fn(HourKey{s, h})
		}
	}
}

// Mismatch is an hour where two answers differ.
type Mismatch struct {
	Key       HourKey
	Got, Want api.Peak
}

func (m Mismatch) String() string {
	d := m.Key.Domain
	if d == "" {
		d = results.AllDomains
	}
	return fmt.Sprintf("%s %s %s: got %s, want %s", m.Key.Project, d,
		time.Unix(m.Key.Hour, 0).UTC().Format(time.RFC3339), peakString(m.Key.Hour, m.Got), peakString(m.Key.Hour, m.Want))
}

func peakString(hour int64, p api.Peak) string {
	if p.Count == 0 {
		return "0"
	}
	return fmt.Sprintf("%d at %s", p.Count, time.Unix(hour+int64(p.Minute)*60, 0).UTC().Format("15:04"))
}

// Compare returns the hours of r where got differs from want, in a stable order, and checks
// that neither table has a non-zero hour outside r (which would be a hole in the comparison).
// A zero peak's minute is ignored.
func Compare(r Range, got, want Table) []Mismatch {
	var out []Mismatch
	seen := 0
	r.hours(func(k HourKey) {
		g, w := got[k].Canonical(), want[k].Canonical()
		if g.Count > 0 || w.Count > 0 {
			seen++
		}
		if g != w {
			out = append(out, Mismatch{k, g, w})
		}
	})
	in := map[Series]bool{}
	for _, s := range r.Series {
		in[s] = true
	}
	for _, t := range []Table{got, want} {
		for k, p := range t {
			if p.Count > 0 && (!in[k.Series] || k.Hour < r.First || k.Hour > r.Last) {
				out = append(out, Mismatch{Key: k, Got: got[k].Canonical(), Want: want[k].Canonical()})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key, out[j].Key
		if a.Project != b.Project {
			return a.Project < b.Project
		}
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		return a.Hour < b.Hour
	})
	return out
}

// Within returns the hours of t that belong to the series of r.
func (t Table) Within(r Range) Table {
	in := map[Series]bool{}
	for _, s := range r.Series {
		in[s] = true
	}
	out := Table{}
	for k, p := range t {
		if in[k.Series] {
			out[k] = p
		}
	}
	return out
}

// MismatchError describes the first mismatches of a comparison.
func MismatchError(what string, ms []Mismatch) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d hours differ", what, len(ms))
	for i, m := range ms {
		if i == 10 {
			b.WriteString("\n  …")
			break
		}
		b.WriteString("\n  " + m.String())
	}
	return fmt.Errorf("%s", b.String())
}

// ReferenceTable is the reference model's answer (internal/reference) for good events, with
// open sessions counted through frontier (a Unix minute). It is slow: for small cases.
func ReferenceTable(good []reference.Event, frontier int64) Table {
	t := Table{}
	for k, p := range reference.Hours(good, frontier) {
		if p.Count > 0 {
			t[HourKey{Series{k.Project, k.Domain}, k.Hour}] = api.Peak{Count: p.Count, Minute: p.Minute}
		}
	}
	return t
}

// PeakReader reads hourly peaks the way the API does; query.Store implements it.
type PeakReader interface {
	Peaks(projectID, domain string, start time.Time, dst []api.Peak)
}

// ReadTable reads the hours of r from src.
func ReadTable(r Range, src PeakReader) Table {
	t := Table{}
	n := int((r.Last-r.First)/3600) + 1
	buf := make([]api.Peak, n)
	for _, s := range r.Series {
		src.Peaks(s.Project, s.Domain, time.Unix(r.First, 0).UTC(), buf)
		for i, p := range buf {
			if p.Count > 0 {
				t[HourKey{s, r.First + int64(i)*3600}] = p
			}
		}
	}
	return t
}

// matches reports whether src holds exactly want over r, reading it without allocating a table;
// buf has room for the hours of r.
func matches(r Range, src PeakReader, want Table, buf []api.Peak) bool {
	for _, s := range r.Series {
		src.Peaks(s.Project, s.Domain, time.Unix(r.First, 0).UTC(), buf)
		for i, p := range buf {
			if p.Canonical() != want[HourKey{s, r.First + int64(i)*3600}] {
				return false
			}
		}
	}
	return true
}
