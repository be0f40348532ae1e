package window

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// referencePeak is the obviously-correct definition: max count, earliest minute.
func referencePeak(c [MinutesPerHour]uint32) Peak {
	var p Peak
	for m, v := range c {
		if v > p.Count {
			p = Peak{Count: v, Minute: uint8(m)}
		}
	}
	return p
}

func TestHourEdgeCases(t *testing.T) {
	var h Hour
	require.Equal(t, Peak{}, h.Peak(), "an empty hour is 0 at minute 0")

	p, changed := h.Set(30, 5)
	require.True(t, changed)
	require.Equal(t, Peak{Count: 5, Minute: 30}, p)

	p, changed = h.Set(10, 5)
	require.True(t, changed, "a tie moves the peak to the earlier minute")
	require.Equal(t, Peak{Count: 5, Minute: 10}, p)

	_, changed = h.Set(50, 5)
	require.False(t, changed, "a later tie does not move the peak")

	p, changed = h.Set(10, 2)
	require.True(t, changed, "lowering the peak minute rescans")
	require.Equal(t, Peak{Count: 5, Minute: 30}, p)

	h.Set(30, 0)
	h.Set(50, 0)
	p, _ = h.Set(10, 0)
	require.Equal(t, Peak{}, p, "back to no activity: 0 at minute 0")
}

func TestHourMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var h Hour
		var ref [MinutesPerHour]uint32
		for range 500 {
			m := r.IntN(MinutesPerHour)
			c := uint32(r.IntN(6))
			ref[m] = c
			h.Set(m, c)
			require.Equal(t, referencePeak(ref), h.Peak())
		}
		require.Equal(t, ref, h.Counts())
		var h2 Hour
		h2.Load(ref)
		require.Equal(t, h.Peak(), h2.Peak())
	}
}

// TestCellConcurrentReaders checks under -race that readers of a Cell never see a torn or
// impossible peak while a writer updates it: every value read is one the writer stored.
func TestCellConcurrentReaders(t *testing.T) {
	var c Cell
	require.True(t, c.Empty())
	require.Equal(t, Peak{}, c.Load(), "an empty cell is 0 at hh:00")
	var wg sync.WaitGroup
	done := make(chan struct{})
	// Readers report what they saw to the test goroutine: require must not fail off it.
	bad := make(chan Peak, 4)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				// The writer only ever stores count m+1 at minute m, or the zero Peak.
				if p := c.Load(); p.Count != 0 && p.Count != uint32(p.Minute)+1 {
					bad <- p
					return
				}
			}
		})
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		m := r.IntN(MinutesPerHour)
		if r.IntN(2) == 0 {
			c.Store(Peak{Count: uint32(m) + 1, Minute: uint8(m)})
		} else {
			c.Store(Peak{})
		}
	}
	close(done)
	wg.Wait()
	close(bad)
	for p := range bad {
		t.Errorf("a reader saw a peak the writer never stored: %+v", p)
	}
	c.Store(Peak{Count: 0, Minute: 30})
	require.True(t, c.Empty(), "a zero hour is stored as no data")
}
