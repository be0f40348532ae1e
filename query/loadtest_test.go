package query

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLoopbackHTTP is a load test over real TCP on loopback: the query handler behind
// net/http with benchProjects projects loaded, and concurrent keep-alive clients in the same
// process (so client and server share the machine's cores, as wrk would). It reports
// requests per second and the p50 and p99 latency seen by the clients.
//
//	go test -run '^$' -bench LoopbackHTTP -benchtime 200000x ./query/
func BenchmarkLoopbackHTTP(b *testing.B) {
	for _, c := range []struct {
		name  string
		query string
	}{
		{"24h", ""},
		{"31d", "?start_time=2026-10-25T10:00:00Z&end_time=2026-11-25T10:00:00Z"},
	} {
		b.Run(c.name, func(b *testing.B) { loadTest(b, c.query, 32) })
	}
}

func loadTest(b *testing.B, query string, clients int) {
	h := benchServer(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}

	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for g := range clients {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v2/project_%05d/stats/record%s", base, i%benchProjects, query), nil)
				req.Header.Set("X-Auth-Token", "bench-token")
				t0 := time.Now()
				resp, err := cl.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.CopyBuffer(io.Discard, resp.Body, buf)
				resp.Body.Close()
				lat[g] = append(lat[g], time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}
