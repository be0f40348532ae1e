package window

import (
	"sync/atomic"
	"testing"
)

// BenchmarkHourSet measures the engine's owner updating minute counts of one hour.
func BenchmarkHourSet(b *testing.B) {
	b.ReportAllocs()
	var h Hour
	for i := range b.N {
		h.Set(i%MinutesPerHour, uint32(i%97))
	}
}

// BenchmarkCellRead measures the query path: API requests reading a published peak lock-free
// while the materializer keeps writing it.
func BenchmarkCellRead(b *testing.B) {
	b.ReportAllocs()
	var c Cell
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint32(1); !stop.Load(); i++ {
			c.Store(Peak{Count: i, Minute: uint8(i % 60)})
		}
	}()
	var sink Peak
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sink = c.Load()
		}
	})
	stop.Store(true)
	<-done
	_ = sink
}
