// Package workload generates recording event sets for integration tests: many projects,
// sessions across hour boundaries, restarts, duplicates, out-of-order delivery within a bound,
// and a share of bad messages. Every session is closed at least five minutes before End, and
// each project ends with a RECORD_FILE_COMPLETE at End, so every partition's watermark reaches
// End - lateness and the expected values do not depend on the wall clock.
package workload

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/reference"
)

// Options shapes a workload.
type Options struct {
	Seed     uint64
	Projects int
	Events   int           // about this many good events
	Span     time.Duration // of event times, ending at End
	End      time.Time
	MaxDelay time.Duration // out-of-order delivery bound (keep it under the correction horizon)
	DupShare float64       // share of exact duplicates
	BadShare float64       // share of bad messages
}

// Message is one Kafka message to produce.
type Message struct {
	Key, Value []byte
	Good       bool // false for a message that must be dead-lettered
}

// Generate returns the messages in delivery order and the good events for the reference model.
func Generate(o Options) ([]Message, []reference.Event) {
	r := rand.New(rand.NewPCG(o.Seed, 99))
	end := o.End.UnixNano()
	start := end - int64(o.Span)
	last := end - int64(5*time.Minute)
	type timed struct {
		ev reference.Event
		at int64
	}
	var evs []timed
	add := func(e reference.Event) {
		evs = append(evs, timed{e, e.Time + r.Int64N(int64(o.MaxDelay)+1)})
	}
	for len(evs) < o.Events {
		p := fmt.Sprintf("project-%03d", r.IntN(o.Projects))
		k := reference.Event{Project: p, Domain: fmt.Sprintf("push%d.%s.example.com", r.IntN(2), p), App: "live",
			Stream: fmt.Sprintf("s%d", r.IntN(40)), Format: []string{"", "HLS", "FLV"}[r.IntN(3)]}
		s := start + r.Int64N(last-start)
		e := min(last, s+r.Int64N(int64(90*time.Minute)))
		k.Type, k.Time = event.RecordStart, s
		add(k)
		k.Type, k.Time = []event.Type{event.RecordOver, event.RecordFailed}[r.IntN(2)], e
		add(k)
	}
	for range int(float64(len(evs)) * o.DupShare) {
		d := evs[r.IntN(len(evs))]
		add(d.ev)
	}
	for i := range o.Projects {
		p := fmt.Sprintf("project-%03d", i)
		evs = append(evs, timed{reference.Event{Project: p, Domain: "marker." + p + ".example.com", App: "live",
			Stream: "end", Type: event.RecordFileComplete, Time: end}, end + int64(time.Hour)})
	}
	slices.SortStableFunc(evs, func(a, b timed) int { return cmp.Compare(a.at, b.at) })
	var msgs []Message
	var good []reference.Event
	for _, t := range evs {
		ev := event.Event{ProjectID: []byte(t.ev.Project), PublishDomain: []byte(t.ev.Domain), App: []byte(t.ev.App),
			Stream: []byte(t.ev.Stream), RecordFormat: []byte(t.ev.Format), Type: t.ev.Type, Time: t.ev.Time}
		msgs = append(msgs, Message{Key: []byte(t.ev.Project), Value: event.AppendJSON(nil, &ev), Good: true})
		good = append(good, t.ev)
		if r.Float64() < o.BadShare {
			msgs = append(msgs, bad(r, t.ev.Project))
		}
	}
	return msgs, good
}

// bad returns a message that breaks one rule of CONTRACT.md §2.
func bad(r *rand.Rand, project string) Message {
	v := []string{
		`not json at all`,
		`{"project_id":"` + project + `","publish_domain":"d","app":"a","stream":"s","event_type":"RECORD_START"}`,
		`{"project_id":"` + project + `","publish_domain":"d","app":"a","stream":"s","event_type":"RECORD_PAUSED","event_time":"2026-11-25T07:20:40Z"}`,
		`{"project_id":"` + project + `","publish_domain":"d","app":"a","stream":"s","event_type":"RECORD_START","event_time":"yesterday"}`,
		`{"project_id":"other","publish_domain":"d","app":"a","stream":"s","event_type":"RECORD_START","event_time":"2026-11-25T07:20:40Z"}`,
	}[r.IntN(5)]
	return Message{Key: []byte(project), Value: []byte(v)}
}
