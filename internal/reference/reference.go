// Package reference is the reference model of CONTRACT.md §3 used by the tests of every
// package: the simplest implementation that is obviously correct. It sorts each recording's
// events, pairs starts and stops, expands sessions to the set of minutes they touch, counts
// distinct recordings per minute and takes the maximum per hour. It is slow and keeps everything.
package reference

import (
	"cmp"
	"slices"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/window"
)

// Event is an event as the reference model sees it.
type Event struct {
	Project, Domain, App, Stream, Format string
	Type                                 event.Type
	Time                                 int64 // Unix ns
	Off                                  int64 // arrival order
}

type recKey struct{ project, domain, app, stream, format string }

// SeriesHour names one hour of a project ("" domain) or of one (project, domain).
type SeriesHour struct {
	Project, Domain string
	Hour            int64 // Unix seconds
}

// Hours returns the value of every hour with activity up to the frontier minute: an
// open session counts through frontier, and minutes after it are not counted. Hours missing from
// the map are 0 at hh:00.
func Hours(evs []Event, frontier int64) map[SeriesHour]window.Peak {
	byRec := map[recKey][]Event{}
	for _, e := range evs {
		k := recKey{e.Project, e.Domain, e.App, e.Stream, e.Format}
		byRec[k] = append(byRec[k], e)
	}
	type seriesMinute struct {
		project, domain string
		minute          int64
	}
	counts := map[seriesMinute]uint32{}
	for k, list := range byRec {
		slices.SortFunc(list, func(a, b Event) int {
			return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Off, b.Off))
		})
		// An exact duplicate (same type and time) has no effect: keep the first arrival.
		type dupKey struct {
			typ  event.Type
			time int64
		}
		seen := map[dupKey]bool{}
		active := map[int64]bool{}
		open, since := false, int64(0)
		for _, e := range list {
			if seen[dupKey{e.Type, e.Time}] {
				continue
			}
			seen[dupKey{e.Type, e.Time}] = true
			switch {
			case e.Type.Opens():
				if !open {
					open, since = true, e.Time
				}
			case e.Type.Closes():
				if open {
					for m := minuteOf(since); m <= minuteOf(e.Time); m++ {
						active[m] = true
					}
					open = false
				} else {
					active[minuteOf(e.Time)] = true
				}
			}
		}
		if open {
			for m := minuteOf(since); m <= max(minuteOf(since), frontier); m++ {
				active[m] = true
			}
		}
		for m := range active {
			if m <= frontier {
				counts[seriesMinute{k.project, "", m}]++
				counts[seriesMinute{k.project, k.domain, m}]++
			}
		}
	}
	hours := map[SeriesHour]window.Peak{}
	for sm, c := range counts {
		hour := sm.minute / 60
		if sm.minute%60 != 0 && sm.minute < 0 {
			hour--
		}
		key := SeriesHour{sm.project, sm.domain, hour * 3600}
		p, ok := hours[key]
		minute := uint8(sm.minute - hour*60)
		if !ok || c > p.Count || (c == p.Count && minute < p.Minute) {
			hours[key] = window.Peak{Count: c, Minute: minute}
		}
	}
	return hours
}

// minuteOf returns the minute (since the Unix epoch) holding the time t in Unix nanoseconds.
func minuteOf(t int64) int64 {
	const ns = int64(60e9)
	q := t / ns
	if t%ns != 0 && t < 0 {
		q--
	}
	return q
}

// Key returns the SeriesHour of a project (domain "") or of one of its domains.
func Key(project, domain string, hour int64) SeriesHour {
	return SeriesHour{Project: project, Domain: domain, Hour: hour}
}
