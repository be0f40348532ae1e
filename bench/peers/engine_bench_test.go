package peers

import (
	"testing"
	"time"

	"github.com/recordusage/recordusage/engine"
	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/workload"
	"github.com/recordusage/recordusage/results"
)

// BenchmarkWorkloadDecodeApply decodes and applies the end-to-end workload of bench/peers (its
// default options: 200 projects, 30 hours, 10 minutes out of order, 5% duplicates, 2% bad
// messages) in one engine on one goroutine, as one partition would read it, without Kafka:
// what the engine costs on the events the side-by-side run times. Each iteration is the whole
// workload, with a Flush every 10 000 messages (a backlog flushes about once a second).
func BenchmarkWorkloadDecodeApply(b *testing.B) {
	cfg := DefaultConfig()
	end := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	msgs, _ := workload.Generate(workload.Options{Seed: cfg.Seed, Projects: cfg.Projects, Events: cfg.Events,
		Span: cfg.Span, End: end, MaxDelay: cfg.MaxDelay, DupShare: cfg.DupShare, BadShare: cfg.BadShare})
	b.ReportAllocs()
	for b.Loop() {
		e, err := engine.New(engine.DefaultConfig(), func() time.Time { return end })
		if err != nil {
			b.Fatal(err)
		}
		var d event.Decoder
		var ev event.Event
		for i, m := range msgs {
			if d.Decode(m.Key, m.Value, &ev) != nil {
				continue // a bad message: dead-lettered by ingest
			}
			_ = e.Apply(&ev, int64(i)) // an event too late is dead-lettered too
			if i%10_000 == 9_999 {
				e.Flush(false, func(results.Record) {})
			}
		}
		e.Flush(true, func(results.Record) {})
	}
	b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(msgs))/float64(b.N), "ns/msg")
}
