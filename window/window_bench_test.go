package window

import (
	"runtime"
	"testing"
)

// BenchmarkHourSet measures one writer updating minute counts of one hour.
func BenchmarkHourSet(b *testing.B) {
	b.ReportAllocs()
	var h Hour
	for i := range b.N {
		h.Set(i%MinutesPerHour, uint32(i%97))
	}
}

// BenchmarkHourSetParallel measures many goroutines each owning their own hours (as partitions
// do), with one reader per goroutine polling peaks at the same time.
func BenchmarkHourSetParallel(b *testing.B) {
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		hours := make([]Hour, 64)
		i := 0
		for pb.Next() {
			h := &hours[i&63]
			h.Set(i%MinutesPerHour, uint32(i%97))
			i++
		}
	})
}

// BenchmarkHourSharedContended measures the worst case: all goroutines write the same hour.
func BenchmarkHourSharedContended(b *testing.B) {
	b.ReportAllocs()
	var h Hour
	b.SetParallelism(runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			h.Set(i%MinutesPerHour, uint32(i%97))
			i++
		}
	})
}

// BenchmarkHourPeakRead measures the lock-free read path.
func BenchmarkHourPeakRead(b *testing.B) {
	b.ReportAllocs()
	var h Hour
	h.Set(7, 9)
	var sink Peak
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sink = h.Peak()
		}
	})
	_ = sink
}
