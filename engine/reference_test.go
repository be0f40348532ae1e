package engine

import (
	"cmp"
	"slices"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/window"
)

// This file holds the reference model of CONTRACT.md §3: the simplest implementation that is
// obviously correct, against which the engine is checked. It sorts each recording's events,
// pairs starts and stops, expands sessions to the set of minutes they touch, counts distinct
// recordings per minute and takes the maximum per hour. It is slow and keeps everything.

// refEvent is an event as the reference model sees it.
type refEvent struct {
	project, domain, app, stream, format string
	typ                                  event.Type
	time                                 int64 // Unix ns
	off                                  int64 // arrival order
}

type recKey struct{ project, domain, app, stream, format string }

// seriesHour names one hour of a project ("" domain) or of one (project, domain).
type seriesHour struct {
	project, domain string
	hour            int64 // Unix seconds
}

// referenceHours returns the value of every hour with activity up to the frontier minute: an
// open session counts through frontier, and minutes after it are not counted. Hours missing from
// the map are 0 at hh:00.
func referenceHours(evs []refEvent, frontier int64) map[seriesHour]window.Peak {
	byRec := map[recKey][]refEvent{}
	for _, e := range evs {
		k := recKey{e.project, e.domain, e.app, e.stream, e.format}
		byRec[k] = append(byRec[k], e)
	}
	type seriesMinute struct {
		project, domain string
		minute          int64
	}
	counts := map[seriesMinute]uint32{}
	for k, list := range byRec {
		slices.SortFunc(list, func(a, b refEvent) int {
			return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.off, b.off))
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
			if seen[dupKey{e.typ, e.time}] {
				continue
			}
			seen[dupKey{e.typ, e.time}] = true
			switch {
			case e.typ.Opens():
				if !open {
					open, since = true, e.time
				}
			case e.typ.Closes():
				if open {
					for m := minuteOf(since); m <= minuteOf(e.time); m++ {
						active[m] = true
					}
					open = false
				} else {
					active[minuteOf(e.time)] = true
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
	hours := map[seriesHour]window.Peak{}
	for sm, c := range counts {
		hour := floorDiv(sm.minute, 60)
		key := seriesHour{sm.project, sm.domain, hour * 3600}
		p, ok := hours[key]
		minute := uint8(sm.minute - hour*60)
		if !ok || c > p.Count || (c == p.Count && minute < p.Minute) {
			hours[key] = window.Peak{Count: c, Minute: minute}
		}
	}
	return hours
}
