package query

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/results"
)

var t0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func rec(project, domain string, hour time.Time, count uint32, minute int) results.Record {
	if domain == results.AllDomains {
		domain = ""
	}
	return results.Record{ProjectID: project, Domain: domain, Hour: hour.Unix(),
		Peak: results.Peak{Count: count, Minute: uint8(minute)}}
}

func TestStorePeaksAcrossBlocks(t *testing.T) {
	s := NewStore()
	// A range crossing three blocks, the middle one never written.
	first := time.Unix(floorDiv(t0.Unix()/3600, BlockHours)*BlockHours*3600, 0).UTC().Add(-3 * time.Hour)
	s.Put(rec("p", "*", first, 1, 5))
	s.Put(rec("p", "*", first.Add(2*time.Hour), 2, 59))
	s.Put(rec("p", "*", first.Add(3*time.Hour), 3, 0)) // first hour of the next block
	far := first.Add(3*time.Hour + 2*BlockHours*time.Hour)
	s.Put(rec("p", "*", far, 4, 1))
	s.Put(rec("p", "Push.Example.com", first, 9, 9))

	n := 3 + 2*BlockHours + 2
	dst := make([]api.Peak, n)
	for i := range dst {
		dst[i] = api.Peak{Count: 77} // must be overwritten
	}
	s.Peaks("p", "", first, dst)
	want := make([]api.Peak, n)
	want[0] = api.Peak{Count: 1, Minute: 5}
	want[2] = api.Peak{Count: 2, Minute: 59}
	want[3] = api.Peak{Count: 3}
	want[3+2*BlockHours] = api.Peak{Count: 4, Minute: 1}
	require.Equal(t, want, dst)

	s.Peaks("p", "push.example.com", first, dst[:1])
	require.Equal(t, api.Peak{Count: 9, Minute: 9}, dst[0], "domains are stored in lower case (results.LowerDomain)")
	s.Peaks("nobody", "", first, dst)
	require.Equal(t, make([]api.Peak, n), dst)

	// Latest wins, and a zero clears the hour.
	s.Put(rec("p", "*", first, 8, 30))
	s.Put(rec("p", "*", first.Add(2*time.Hour), 0, 0))
	s.Peaks("p", "", first, dst[:3])
	require.Equal(t, []api.Peak{{Count: 8, Minute: 30}, {}, {}}, dst[:3])
	s.Put(results.Record{ProjectID: "p", Hour: first.Unix(), Tombstone: true})
	s.Peaks("p", "", first, dst[:1])
	require.Equal(t, api.Peak{}, dst[0])

	series, blocks := s.Stats()
	require.Equal(t, 2, series)
	require.EqualValues(t, 4, blocks)
	s.DropBefore(far)
	_, blocks = s.Stats()
	require.EqualValues(t, 1, blocks)
	s.Peaks("p", "", far, dst[:1])
	require.Equal(t, api.Peak{Count: 4, Minute: 1}, dst[0])
}

// TestStoreNoTornReads writes (count, minute) pairs that satisfy minute == count%60 while
// readers check every value they see; run with -race.
func TestStoreNoTornReads(t *testing.T) {
	s := NewStore()
	const hours = 3 * BlockHours
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			dst := make([]api.Peak, hours)
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.Peaks("p", "", t0, dst)
				for _, p := range dst {
					if p.Count != 0 && int(p.Minute) != int(p.Count%60) {
						t.Errorf("torn value %+v", p)
						return
					}
				}
			}
		})
	}
	for c := uint32(1); c <= 20; c++ {
		for h := range hours {
			s.Put(rec("p", "*", t0.Add(time.Duration(h)*time.Hour), c, int(c%60)))
		}
	}
	close(stop)
	wg.Wait()
}

func BenchmarkStorePeaks744(b *testing.B) {
	s := NewStore()
	for h := range 24 * 90 {
		s.Put(rec("p", "*", t0.Add(time.Duration(h)*time.Hour), uint32(h), h%60))
	}
	dst := make([]api.Peak, 744)
	start := t0.Add(24 * 30 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		s.Peaks("p", "", start, dst)
	}
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
}
