package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newRequestID returns 128 random bits in hex: unique without coordination between replicas.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	var h [32]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// responseWriter records the status for the metrics and whether anything was written, so
// that the panic handler knows whether it can still send a 500, and what the access log says
// of the request, filled in as the request passes the checks.
type responseWriter struct {
	http.ResponseWriter
	status    int
	wrote     bool
	err       error     // the error answered, if any
	project   string    // the path's project, for ListRecordData
	principal Principal // who the request authenticated as, once it has
}

var rwPool = sync.Pool{New: func() any { return &responseWriter{} }}

func getResponseWriter(w http.ResponseWriter) *responseWriter {
	rw := rwPool.Get().(*responseWriter)
	*rw = responseWriter{ResponseWriter: w, status: http.StatusOK}
	return rw
}

func putResponseWriter(rw *responseWriter) {
	rw.ResponseWriter = nil
	rwPool.Put(rw)
}

func (rw *responseWriter) WriteHeader(code int) {
	if !rw.wrote {
		rw.status, rw.wrote = code, true
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *responseWriter) Write(b []byte) (int, error) {
	rw.wrote = true
	return rw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// serverMetrics counts requests by status code and measures their latency, and counts
// authentication failures by reason.
type serverMetrics struct {
	requests     *prometheus.CounterVec
	byStatus     [600]prometheus.Counter // the statuses the server sends, resolved once; read-only
	latency      prometheus.Histogram
	authFailures *prometheus.CounterVec
	byReason     map[AuthReason]prometheus.Counter // every AuthReason, resolved once; read-only
}

func newServerMetrics(reg prometheus.Registerer) (*serverMetrics, error) {
	m := &serverMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recordusage_query_http_requests_total",
			Help: "HTTP requests served, by status code."}, []string{"code"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "recordusage_query_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, from routing to the last byte handed to the connection.",
			Buckets: []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5}}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recordusage_query_auth_failures_total",
			Help: "Requests refused with 401, by reason (unknown_key, bad_signature, date_out_of_window, wrong_project…)."},
			[]string{"reason"}),
		byReason: make(map[AuthReason]prometheus.Counter, len(AuthReasons)),
	}
	for _, code := range []int{200, 304, 400, 401, 404, 405, 500, 503} {
		m.byStatus[code] = m.requests.WithLabelValues(strconv.Itoa(code))
	}
	// Every reason exists from the start at 0, so that rate() and alerts see the first failure.
	for _, r := range AuthReasons {
		m.byReason[r] = m.authFailures.WithLabelValues(string(r))
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.latency, m.authFailures} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *serverMetrics) observe(status int, d time.Duration) {
	m.latency.Observe(d.Seconds())
	m.count(status)
}

// count counts a response by status, without a latency: for the requests refused before
// routing (Server.Refuse), whose duration the server does not know.
func (m *serverMetrics) count(status int) {
	if status > 0 && status < len(m.byStatus) && m.byStatus[status] != nil {
		m.byStatus[status].Inc()
		return
	}
	m.requests.WithLabelValues(strconv.Itoa(status)).Inc()
}

func (m *serverMetrics) authFailure(r AuthReason) {
	if c, ok := m.byReason[r]; ok {
		c.Inc()
		return
	}
	m.authFailures.WithLabelValues(string(r)).Inc()
}
