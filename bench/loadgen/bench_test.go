package loadgen

import (
	"testing"
	"time"
)

// BenchmarkGenerate measures the generator alone: events simulated, delayed, ordered for
// delivery and encoded, with a reused buffer, for 20 000 channels of 1000 projects.
func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Projects, cfg.Channels, cfg.BadShare = 1000, 20_000, 0.001
	cfg.Now = func() time.Time { return t0 }
	cfg.From, cfg.To = t0.Add(-80*24*time.Hour), t0
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	var m Message
	var bytes int64
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if buf, ok = g.Drain(cfg.To, buf[:0], &m); !ok {
			b.StopTimer()
			g, _ = New(cfg)
			b.StartTimer()
		}
		bytes += int64(len(m.Value))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/event")
}
