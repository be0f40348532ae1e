package engine

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestSeriesSearch compares series.search, which looks at the newest cells before bisecting,
// with a plain binary search, for every minute around cells of random spacing and a head.
func TestSeriesSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		s := &series{head: r.IntN(4)}
		m := int64(r.IntN(100))
		for range s.head + r.IntN(40) {
			s.cells = append(s.cells, minuteCell{minute: m})
			m += 1 + int64(r.IntN(5))
		}
		if s.head > len(s.cells) {
			s.head = len(s.cells)
		}
		live := s.cells[s.head:]
		for q := int64(-2); q <= m+2; q++ {
			want := s.head + sort.Search(len(live), func(i int) bool { return live[i].minute >= q })
			if got := s.search(q); got != want {
				t.Fatalf("cells %v head %d: search(%d) = %d, want %d", s.cells, s.head, q, got, want)
			}
		}
	}
}
