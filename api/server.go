package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Peak is the value of one hour of a series: the peak number of concurrent recordings and the
// minute of the hour (0–59) where it was first reached. The zero Peak is an hour without
// recordings, reported at the hour itself.
type Peak struct {
	// Count is the peak number of concurrent recordings.
	Count uint32
	// Minute is the minute of the hour where Count was first reached; ignored when Count is 0.
	Minute uint8
}

// PeakSource is where the server reads hourly peaks. query.Store implements it.
type PeakSource interface {
	// Peaks fills dst[i] with the peak of the hour start+i hours of the series (projectID,
	// domain), where domain "" is the whole project and a non-empty domain is lower case. Hours
	// without data must be set to the zero Peak. It must be safe for concurrent use and should
	// not allocate.
	Peaks(projectID, domain string, start time.Time, dst []Peak)
}

// Default values of ServerConfig.
const (
	// DefaultRetryAfter is the Retry-After of a 503 while the results are being loaded.
	DefaultRetryAfter = 5 * time.Second
	// MaxBodyBytes bounds the request body that is read for the AK/SK signature. A GET has no
	// body; anything larger than this is refused as an invalid parameter "body".
	MaxBodyBytes = 64 << 10
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Auth checks the credentials of every API request (required; see NewInsecureAuthenticator).
	Auth *Authenticator
	// Source holds the hourly peaks (required).
	Source PeakSource
	// Ready reports whether Source has caught up with the results; until then the API answers
	// 503 with Retry-After. Nil means always ready.
	Ready func() bool
	// Limits are the span and lookback limits of ParseQuery (zero fields: the contract's).
	Limits Limits
	// Now is the clock of parameter validation; time.Now when nil.
	Now func() time.Time
	// RetryAfter is the Retry-After of a 503, rounded up to whole seconds (default 5s).
	RetryAfter time.Duration
	// Ops, when non-nil, serves /metrics, /healthz and /readyz (for example ops.Mux).
	Ops http.Handler
	// Pages, when non-nil, serves the operator's web pages: "/", "/chart" and everything under
	// "/chart/" (web.Handler). They get X-Request-Id and the request metrics like the API.
	Pages http.Handler
	// Log receives one line per 5xx and, at debug level, the reason of each refused request.
	// Nil discards.
	Log *slog.Logger
	// Registerer receives the request metrics; nil means no metrics.
	Registerer prometheus.Registerer
}

// Server is the HTTP handler of the query service: ListRecordData, the OpenAPI document and,
// when configured, the operations endpoints, all behind one middleware that sets X-Request-Id,
// counts requests and turns panics into a bare 500.
type Server struct {
	auth       *Authenticator
	src        PeakSource
	ready      func() bool
	limits     Limits
	now        func() time.Time
	retryAfter string
	ops        http.Handler
	pages      http.Handler
	log        *slog.Logger
	m          *serverMetrics
}

// NewServer returns a Server for cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Auth == nil || cfg.Source == nil {
		return nil, errors.New("api: server needs an authenticator and a peak source")
	}
	s := &Server{auth: cfg.Auth, src: cfg.Source, ready: cfg.Ready, limits: cfg.Limits.withDefaults(),
		now: cfg.Now, ops: cfg.Ops, pages: cfg.Pages, log: cfg.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	ra := cfg.RetryAfter
	if ra <= 0 {
		ra = DefaultRetryAfter
	}
	s.retryAfter = strconv.Itoa(int((ra + time.Second - 1) / time.Second))
	m, err := newServerMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s.m = m
	return s, nil
}

// Paths served besides ListRecordData.
const (
	// PathOpenAPI serves the embedded OpenAPI document.
	PathOpenAPI = "/openapi.yaml"
	// PathChart is the prefix of the pages of ServerConfig.Pages.
	PathChart = "/chart"
)

var opsPaths = map[string]bool{"/metrics": true, "/healthz": true, "/readyz": true}

// ServeHTTP routes a request. Routing is by exact path: the service has one API path, and
// anything else, including a trailing slash or an extra segment, is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := getResponseWriter(w)
	id := newRequestID()
	rw.Header()[HeaderRequestID] = []string{id}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic while serving a request", "request_id", id, "path", r.URL.Path,
				"panic", fmt.Sprint(v))
			if !rw.wrote {
				s.writeError(rw, r, id, errInternal(fmt.Errorf("panic: %v", v)))
			}
		}
		s.m.observe(rw.status, time.Since(start))
		putResponseWriter(rw)
	}()
	s.route(rw, r, id)
}

func (s *Server) route(w *responseWriter, r *http.Request, id string) {
	path := r.URL.Path
	if project, ok := recordDataProject(path); ok {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			s.writeError(w, r, id, ErrMethodNotAllowed)
			return
		}
		s.listRecordData(w, r, id, project)
		return
	}
	switch {
	case path == PathOpenAPI:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.writeError(w, r, id, ErrMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Content-Length", strconv.Itoa(len(OpenAPI)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(OpenAPI)
		}
	case s.ops != nil && opsPaths[path]:
		s.ops.ServeHTTP(w, r)
	case s.pages != nil && (path == "/" || path == PathChart || strings.HasPrefix(path, PathChart+"/")):
		s.pages.ServeHTTP(w, r)
	default:
		s.writeError(w, r, id, ErrNotFound)
	}
}

// recordDataProject returns the project of a /v2/{project_id}/stats/record path. The project
// may be empty or invalid (that is a 400, not a 404) but contains no slash.
func recordDataProject(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", false
	}
	project, ok := strings.CutSuffix(rest, "/stats/record")
	if !ok || strings.IndexByte(project, '/') >= 0 {
		return "", false
	}
	return project, true
}

// listRecordData answers GET /v2/{project_id}/stats/record. The checks run in this order:
// project id, authentication, parameters, readiness. Authentication comes before parameters
// so that an unauthenticated caller learns nothing about what a valid request looks like;
// readiness comes last so that a request that would fail anyway gets its real error at once.
func (s *Server) listRecordData(w *responseWriter, r *http.Request, id, project string) {
	if !ValidProjectID(project) {
		s.writeError(w, r, id, &ParamError{Name: ParamProjectID})
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, id, err)
		return
	}
	if err := s.auth.Authorize(r, project, body); err != nil {
		s.writeError(w, r, id, err)
		return
	}
	q, err := ParseQuery(project, r.URL.Query(), s.now(), s.limits)
	if err != nil {
		s.writeError(w, r, id, err)
		return
	}
	if s.ready != nil && !s.ready() {
		w.Header().Set("Retry-After", s.retryAfter)
		s.writeError(w, r, id, ErrNotReady)
		return
	}
	buf := getAnswerBuffer(q.Hours())
	defer putAnswerBuffer(buf)
	s.src.Peaks(q.ProjectID, q.PublishDomain, q.Start, buf.peaks)
	buf.out = appendRecordDataList(buf.out[:0], q.Start, buf.peaks)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(buf.out))}
	w.WriteHeader(http.StatusOK)
	w.Write(buf.out)
}

// readBody reads the request body for the signature check, up to MaxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, &ParamError{Name: "body"}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, &ParamError{Name: "body"}
	}
	if len(b) > MaxBodyBytes {
		return nil, &ParamError{Name: "body"}
	}
	return b, nil
}

// answerBuffer holds the peaks and the encoded body of one answer; pooled.
type answerBuffer struct {
	peaks []Peak
	out   []byte
}

var answerPool = sync.Pool{New: func() any { return &answerBuffer{} }}

func getAnswerBuffer(hours int) *answerBuffer {
	b := answerPool.Get().(*answerBuffer)
	if cap(b.peaks) < hours {
		b.peaks = make([]Peak, hours)
	}
	b.peaks = b.peaks[:hours]
	return b
}

func putAnswerBuffer(b *answerBuffer) {
	if cap(b.out) > 1<<20 {
		return // do not keep an outsized buffer
	}
	answerPool.Put(b)
}
