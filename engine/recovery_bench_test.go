package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/results"
)

// BenchmarkRecovery measures what a restart after kill -9 costs, as a function of the time
// between the last checkpoint and the crash: the BenchmarkApply workload (20 k channels, 10 k
// projects) runs caught up for ~2.7 hours, is checkpointed, runs `since` minutes more, and is
// killed; the partition holds 1 k or 10 k projects (each with its domains: 3 series a project at
// most). One op is the successor's whole recovery: restore the checkpoint, replay the events
// since it, reconcile. Reported: the records a recovery writes on top of what the replay itself
// publishes (reconcile-records: republished hours and tombstones), the records the replay
// publishes, and the series of the partition.
func BenchmarkRecovery(b *testing.B) {
	const channels = 20_000
	for _, c := range []struct {
		projects int
		since    time.Duration
	}{{1_000, 10 * time.Second}, {10_000, 10 * time.Second}, {10_000, time.Minute}, {10_000, 10 * time.Minute}} {
		projects, since := c.projects, c.since
		b.Run(fmt.Sprintf("projects=%d/since=%v", projects, since), func(b *testing.B) {
			warm := channels * 8
			perMinute := channels / 20 // each channel switches every ~20 minutes
			n := int(int64(perMinute) * int64(since) / int64(time.Minute))
			w := newWorkload(channels, projects, warm+n)
			var clock int64
			now := func() time.Time { return time.Unix(0, clock) }
			var ev event.Event
			apply := func(e *Engine, from, to int, emit func(results.Record)) {
				for i := from; i < to; i++ {
					w.event(i, &ev)
					clock = max(clock, ev.Time)
					_ = e.Apply(&ev, int64(i))
					if i%1000 == 999 || i == to-1 {
						e.Flush(i == to-1, emit)
					}
				}
			}
			e, err := New(DefaultConfig(), now)
			if err != nil {
				b.Fatal(err)
			}
			apply(e, 0, warm, func(results.Record) {})
			snap := e.AppendSnapshot(nil)
			series := len(e.seriesIDs)
			b.ReportAllocs()
			b.ResetTimer()
			var replayed, reconciled int
			for range b.N {
				clock = w.evs[warm-1].time
				e, err := Restore(DefaultConfig(), now, snap)
				if err != nil {
					b.Fatal(err)
				}
				e.BeginRecovery()
				replayed, reconciled = 0, 0
				apply(e, warm, warm+n, func(results.Record) { replayed++ })
				e.Reconcile(func(results.Record) { reconciled++ })
			}
			b.ReportMetric(float64(reconciled), "reconcile-records")
			b.ReportMetric(float64(replayed), "replay-records")
			b.ReportMetric(float64(series), "series")
		})
	}
}
