package query

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/recordusage/recordusage/api"
)

// benchProjects is the number of projects loaded for the handler benchmarks.
const benchProjects = 10_000

var (
	benchStoreOnce sync.Once
	benchStore     *Store
)

// loadedStore returns a store with benchProjects projects, each with 35 days of hourly
// values for the whole project and one domain (about 1.4 GB of blocks would be 90 days for
// everything; 35 days cover the 31-day query and keep the set-up short).
func loadedStore() *Store {
	benchStoreOnce.Do(func() {
		benchStore = NewStore()
		first := now.Truncate(time.Hour).Add(-35 * 24 * time.Hour)
		for p := range benchProjects {
			project := fmt.Sprintf("project_%05d", p)
			for h := range 35 * 24 {
				hour := first.Add(time.Duration(h) * time.Hour)
				benchStore.Put(rec(project, "*", hour, uint32(p+h)%500+1, h%60))
				if h%3 == 0 {
					benchStore.Put(rec(project, "push.example.com", hour, uint32(h)%50+1, h%60))
				}
			}
		}
	})
	return benchStore
}

func benchServer(b *testing.B) http.Handler {
	b.Helper()
	path := b.TempDir() + "/credentials.json"
	writeFile(b, path, `{"tokens":[{"token":"bench-token","project_id":"*"}]}`)
	cs, err := api.NewStore(path)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.NewServer(api.ServerConfig{Auth: api.NewAuthenticator(cs, func() time.Time { return now }),
		Source: loadedStore(), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// discardWriter is a minimal ResponseWriter, so that the benchmark measures the handler and
// not httptest.ResponseRecorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func benchmarkHandler(b *testing.B, query string) {
	h := benchServer(b)
	reqs := make([]*http.Request, 64)
	for i := range reqs {
		r := httptest.NewRequest("GET", fmt.Sprintf("/v2/project_%05d/stats/record%s", i*97%benchProjects, query), nil)
		r.Header.Set("X-Auth-Token", "bench-token")
		reqs[i] = r
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, reqs[i%len(reqs)])
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
		i++
	}
}

// BenchmarkHandler24h is the default query (no parameters): 24 points.
func BenchmarkHandler24h(b *testing.B) { benchmarkHandler(b, "") }

// BenchmarkHandler31d is the longest query: 745 points (31 days, both ends included).
func BenchmarkHandler31d(b *testing.B) {
	benchmarkHandler(b, "?start_time=2026-10-25T10:00:00Z&end_time=2026-11-25T10:00:00Z")
}

// BenchmarkHandler24hDomain is the default query with a domain filter.
func BenchmarkHandler24hDomain(b *testing.B) { benchmarkHandler(b, "?publish_domain=push.example.com") }
