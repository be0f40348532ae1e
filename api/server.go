package api

import (
	"encoding/json"
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

	"github.com/recordusage/recordusage/results"
)

// Peak is the value of one hour of a series, the one type every hop uses (results.Peak).
type Peak = results.Peak

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
	// DefaultMaxQueryBytes is the default ServerConfig.MaxQueryBytes. The longest valid query
	// (a 255-character domain and both times, every byte percent-encoded) is under 1 KiB.
	DefaultMaxQueryBytes = 4 << 10
	// DefaultMaxQueryParams is the default ServerConfig.MaxQueryParams: the API has three
	// parameters; the rest leaves room for a client's own (ignored) additions.
	DefaultMaxQueryParams = 32
)

// ParamQuery names the whole query string in the ParamError of a query over the limits.
const ParamQuery = "query"

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
	// MaxQueryBytes bounds the raw query string of ListRecordData (default 4 KiB); a longer
	// one is a 400 naming the parameter "query". It is checked before authentication, since
	// the AK/SK verifier would otherwise parse and sort the whole query first.
	MaxQueryBytes int
	// MaxQueryParams bounds the number of query parameters of ListRecordData (default 32); more
	// is a 400 naming "query".
	MaxQueryParams int
	// Ops, when non-nil, serves /metrics, /healthz and /readyz (for example ops.Mux).
	Ops http.Handler
	// Pages, when non-nil, serves the operator's web pages: "/", "/chart" and everything under
	// "/chart/" (web.Handler). They get X-Request-Id and the request metrics like the API.
	Pages http.Handler
	// Log receives the access log: one line per refused request at info level (status, error
	// code, request id, project, credential scheme, reason; never a secret), per failure at
	// error level, per served request at debug level. Nil discards.
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
	maxQuery   int
	maxParams  int
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
		now: cfg.Now, ops: cfg.Ops, pages: cfg.Pages, log: cfg.Log,
		maxQuery: cfg.MaxQueryBytes, maxParams: cfg.MaxQueryParams}
	if s.maxQuery <= 0 {
		s.maxQuery = DefaultMaxQueryBytes
	}
	if s.maxParams <= 0 {
		s.maxParams = DefaultMaxQueryParams
	}
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
			err := errInternal(fmt.Errorf("panic: %v", v))
			if !rw.wrote {
				s.writeError(rw, err)
			} else {
				rw.err = err
			}
		}
		d := time.Since(start)
		s.m.observe(rw.status, d)
		scheme := rw.principal.Scheme
		if scheme == "" {
			scheme = credentialScheme(r.Header)
		}
		s.logAccess(&accessEntry{requestID: id, method: r.Method, path: r.URL.Path,
			remoteAddr: r.RemoteAddr, status: rw.status, err: rw.err, project: rw.project,
			scheme: scheme, accessKey: rw.principal.AccessKey, duration: d})
		putResponseWriter(rw)
	}()
	s.route(rw, r)
}

// Refuse answers a request that the HTTP server refused before routing it (see
// ops.RefuseFunc): the same status, in the contract's shape (X-Request-Id, a JSON error body
// with CodeInvalidParam), logged and counted like any other refused request.
func (s *Server) Refuse(status int, detail, remoteAddr string) (http.Header, []byte) {
	err := &ProtocolError{Status: status, Detail: detail}
	status, body := errorResponse(err)
	b, _ := json.Marshal(body)
	id := newRequestID()
	s.m.count(status)
	s.logAccess(&accessEntry{requestID: id, remoteAddr: remoteAddr, status: status, err: err})
	return http.Header{HeaderRequestID: {id}, "Content-Type": jsonContentType}, b
}

func (s *Server) route(w *responseWriter, r *http.Request) {
	path := r.URL.Path
	if project, ok := recordDataProject(path); ok {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			s.writeError(w, ErrMethodNotAllowed)
			return
		}
		s.listRecordData(w, r, project)
		return
	}
	switch {
	case path == PathOpenAPI:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.writeError(w, ErrMethodNotAllowed)
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
		s.writeError(w, ErrNotFound)
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
// project id, size of the query and body, authentication, parameters, readiness.
// Authentication comes before parameters so that an unauthenticated caller learns nothing
// about what a valid request looks like; the size limits come before it because they bound
// the work of verifying a signature, and say nothing of what a valid request is; readiness
// comes last so that a request that would fail anyway gets its real error at once.
func (s *Server) listRecordData(w *responseWriter, r *http.Request, project string) {
	if !ValidProjectID(project) {
		s.writeError(w, &ParamError{Name: ParamProjectID})
		return
	}
	w.project = project
	if !s.queryWithinLimits(r.URL.RawQuery) {
		s.writeError(w, &ParamError{Name: ParamQuery})
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	p, err := s.auth.authorize(r, project, body)
	w.principal = p
	if err != nil {
		if ae, ok := err.(*AuthError); ok {
			w.principal.AccessKey = ae.AccessKey // a known key, for the access log
		}
		s.writeError(w, err)
		return
	}
	q, err := ParseQuery(project, r.URL.Query(), s.now(), s.limits)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if s.ready != nil && !s.ready() {
		w.Header().Set("Retry-After", s.retryAfter)
		s.writeError(w, ErrNotReady)
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

// queryWithinLimits reports whether a raw query has at most maxQuery bytes and maxParams
// parameters, counted as url.ParseQuery counts them: the non-empty "&"-separated parts.
func (s *Server) queryWithinLimits(raw string) bool {
	if len(raw) > s.maxQuery {
		return false
	}
	n := 0
	for i := 0; i < len(raw); i++ {
		// A part starts at a non-"&" byte at the start or after an "&".
		if raw[i] != '&' && (i == 0 || raw[i-1] == '&') {
			n++
		}
	}
	return n <= s.maxParams
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
