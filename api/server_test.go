package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// mapSource is a PeakSource over a map, for handler tests.
type mapSource struct {
	mu    sync.RWMutex
	peaks map[string]Peak // key: project|domain|unix hour
}

func newMapSource() *mapSource { return &mapSource{peaks: map[string]Peak{}} }

func sourceKey(project, domain string, hour time.Time) string {
	if domain == "" {
		domain = "*"
	}
	return project + "|" + domain + "|" + hour.UTC().Format(TimeLayout)
}

func (m *mapSource) set(project, domain, minute string, count uint32) {
	t := ts(minute)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.peaks[sourceKey(project, domain, t.Truncate(time.Hour))] = Peak{Count: count, Minute: uint8(t.Minute())}
}

func (m *mapSource) Peaks(project, domain string, start time.Time, dst []Peak) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i := range dst {
		dst[i] = m.peaks[sourceKey(project, domain, start.Add(time.Duration(i)*time.Hour))]
	}
}

// panicSource fails every read.
type panicSource struct{}

func (panicSource) Peaks(string, string, time.Time, []Peak) { panic("store exploded: secret detail") }

// testSource holds the data behind the golden files.
func testSource() *mapSource {
	s := newMapSource()
	s.set("proj_a", "", "2026-11-25T08:17:00Z", 5)
	s.set("proj_a", "", "2026-11-25T09:00:00Z", 2)
	s.set("proj_a", "", "2026-11-24T23:59:00Z", 7)
	s.set("proj_a", "push.example.com", "2026-11-25T08:42:00Z", 3)
	s.set("proj_b", "", "2026-11-25T08:05:00Z", 99)
	return s
}

type serverOpts struct {
	src      PeakSource
	insecure bool
	ready    func() bool
	clock    func() time.Time
	reg      prometheus.Registerer
	ops      http.Handler
}

func newTestServer(t testing.TB, o serverOpts) *Server {
	t.Helper()
	if o.src == nil {
		o.src = testSource()
	}
	if o.clock == nil {
		o.clock = fixedClock(testNow)
	}
	auth := NewInsecureAuthenticator()
	if !o.insecure {
		auth = NewAuthenticator(newTestStore(t, testCreds), o.clock)
	}
	s, err := NewServer(ServerConfig{Auth: auth, Source: o.src, Ready: o.ready, Now: o.clock,
		Registerer: o.reg, Ops: o.ops})
	require.NoError(t, err)
	return s
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// do serves one request and checks what every response must have.
func do(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Regexp(t, requestIDPattern, w.Header().Get(HeaderRequestID))
	if w.Code != http.StatusOK || strings.HasPrefix(r.URL.Path, "/v2/") {
		require.Equal(t, "application/json", w.Header().Get("Content-Type"), "status %d", w.Code)
		require.True(t, json.Valid(w.Body.Bytes()), w.Body.String())
	}
	return w
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./api/ -run %s -update to create it", t.Name())
	require.Equal(t, string(want), string(got))
}

func TestHandlerTable(t *testing.T) {
	type tc struct {
		name   string // also the golden file
		method string
		target string
		hdr    map[string]string
		status int
		code   string // error_code, empty for 200
	}
	tokA := map[string]string{"X-Auth-Token": "token-a"}
	long := strings.Repeat("a", 65)
	cases := []tc{
		// 200
		{"ok_default_24h", "GET", "/v2/proj_a/stats/record", tokA, 200, ""},
		{"ok_range_truncated", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T07:20:40Z&end_time=2026-11-25T09:59:59Z", tokA, 200, ""},
		{"ok_one_point", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T08:20:00Z&end_time=2026-11-25T08:40:00Z", tokA, 200, ""},
		{"ok_domain", "GET", "/v2/proj_a/stats/record?publish_domain=Push.Example.COM&start_time=2026-11-25T07:00:00Z&end_time=2026-11-25T09:00:00Z", tokA, 200, ""},
		{"ok_unknown_domain", "GET", "/v2/proj_a/stats/record?publish_domain=other.example.com&start_time=2026-11-25T07:00:00Z&end_time=2026-11-25T09:00:00Z", tokA, 200, ""},
		{"ok_end_in_future_clamped", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T08:00:00Z&end_time=2027-01-01T00:00:00Z", tokA, 200, ""},
		{"ok_empty_params_absent", "GET", "/v2/proj_a/stats/record?start_time=&end_time=&publish_domain=", tokA, 200, ""},
		{"ok_day_boundary", "GET", "/v2/proj_a/stats/record?start_time=2026-11-24T22:00:00Z&end_time=2026-11-25T01:00:00Z", tokA, 200, ""},
		{"ok_max_span", "GET", "/v2/proj_a/stats/record?start_time=2026-10-25T10:00:00Z&end_time=2026-11-25T10:00:00Z", tokA, 200, ""},
		{"ok_unknown_param_ignored", "GET", "/v2/proj_a/stats/record?limit=3&start_time=2026-11-25T09:00:00Z", tokA, 200, ""},
		// 400 start_time
		{"bad_start_space", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25%2007:00:00Z", tokA, 400, CodeInvalidParam},
		{"bad_start_offset", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T07:00:00%2B08:00", tokA, 400, CodeInvalidParam},
		{"bad_start_fraction", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T07:00:00.000Z", tokA, 400, CodeInvalidParam},
		{"bad_start_month", "GET", "/v2/proj_a/stats/record?start_time=2026-13-01T00:00:00Z", tokA, 400, CodeInvalidParam},
		{"bad_start_lower_z", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T07:00:00z", tokA, 400, CodeInvalidParam},
		{"bad_start_repeated", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T07:00:00Z&start_time=2026-11-25T08:00:00Z", tokA, 400, CodeInvalidParam},
		{"bad_start_future", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T11:00:00Z", tokA, 400, CodeInvalidParam},
		{"bad_start_lookback", "GET", "/v2/proj_a/stats/record?start_time=2026-08-27T09:00:00Z&end_time=2026-08-28T00:00:00Z", tokA, 400, CodeInvalidParam},
		// 400 end_time
		{"bad_end_format", "GET", "/v2/proj_a/stats/record?end_time=2026-11-25", tokA, 400, CodeInvalidParam},
		{"bad_end_before_start", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T08:00:00Z&end_time=2026-11-25T07:00:00Z", tokA, 400, CodeInvalidParam},
		{"bad_end_equal_start", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T08:00:00Z&end_time=2026-11-25T08:00:00Z", tokA, 400, CodeInvalidParam},
		{"bad_end_span", "GET", "/v2/proj_a/stats/record?start_time=2026-10-25T09:00:00Z&end_time=2026-11-25T10:00:00Z", tokA, 400, CodeInvalidParam},
		{"bad_end_default_lookback", "GET", "/v2/proj_a/stats/record?end_time=2026-08-27T10:00:00Z", tokA, 400, CodeInvalidParam},
		// 400 publish_domain
		{"bad_domain_wildcard", "GET", "/v2/proj_a/stats/record?publish_domain=*.example.com", tokA, 400, CodeInvalidParam},
		{"bad_domain_underscore", "GET", "/v2/proj_a/stats/record?publish_domain=a_b.example.com", tokA, 400, CodeInvalidParam},
		{"bad_domain_long", "GET", "/v2/proj_a/stats/record?publish_domain=" + strings.Repeat("a.", 128), tokA, 400, CodeInvalidParam},
		// 400 query: over the size limits (checked before authentication: they bound its work)
		{"bad_query_too_long", "GET", "/v2/proj_a/stats/record?x=" + strings.Repeat("a", DefaultMaxQueryBytes), nil, 400, CodeInvalidParam},
		{"bad_query_too_many", "GET", "/v2/proj_a/stats/record?" + strings.Repeat("x=1&", DefaultMaxQueryParams) + "start_time=2026-11-25T07:00:00Z", tokA, 400, CodeInvalidParam},
		{"ok_query_at_limits", "GET", "/v2/proj_a/stats/record?start_time=2026-11-25T09:00:00Z&" + strings.Repeat("x=1&&", DefaultMaxQueryParams-2) + "y=", tokA, 200, ""},
		// 400 project_id (checked before authentication: it is part of the route)
		{"bad_project_long", "GET", "/v2/" + long + "/stats/record", tokA, 400, CodeInvalidParam},
		{"bad_project_char", "GET", "/v2/proj.a/stats/record", tokA, 400, CodeInvalidParam},
		{"bad_project_empty", "GET", "/v2//stats/record", nil, 400, CodeInvalidParam},
		// 401
		{"auth_none", "GET", "/v2/proj_a/stats/record", nil, 401, CodeAuthFailed},
		{"auth_bad_token", "GET", "/v2/proj_a/stats/record", map[string]string{"X-Auth-Token": "nope"}, 401, CodeAuthFailed},
		{"auth_bad_scheme", "GET", "/v2/proj_a/stats/record", map[string]string{"Authorization": "Bearer token-a"}, 401, CodeAuthFailed},
		{"auth_before_params", "GET", "/v2/proj_a/stats/record?start_time=garbage", map[string]string{"X-Auth-Token": "nope"}, 401, CodeAuthFailed},
		{"auth_other_project", "GET", "/v2/proj_b/stats/record", tokA, 401, CodeForbiddenProject},
		{"auth_other_project_before_params", "GET", "/v2/proj_b/stats/record?start_time=garbage", tokA, 401, CodeForbiddenProject},
		{"auth_x_project_id_mismatch", "GET", "/v2/proj_a/stats/record", map[string]string{"X-Auth-Token": "token-a", "X-Project-Id": "proj_b"}, 401, CodeForbiddenProject},
		// 404
		{"not_found_root", "GET", "/", tokA, 404, CodeNotFound},
		{"not_found_v1", "GET", "/v1/proj_a/stats/record", tokA, 404, CodeNotFound},
		{"not_found_trailing_slash", "GET", "/v2/proj_a/stats/record/", tokA, 404, CodeNotFound},
		{"not_found_extra_segment", "GET", "/v2/proj_a/x/stats/record", tokA, 404, CodeNotFound},
		{"not_found_other", "GET", "/v2/proj_a/stats/records", nil, 404, CodeNotFound},
		{"not_found_post", "POST", "/v2/proj_a/stats", nil, 404, CodeNotFound},
		// 405 (before project and authentication)
		{"method_post", "POST", "/v2/proj_a/stats/record", tokA, 405, CodeMethodNotAllowed},
		{"method_delete", "DELETE", "/v2/proj_a/stats/record", nil, 405, CodeMethodNotAllowed},
		{"method_put_bad_project", "PUT", "/v2/proj.a/stats/record", nil, 405, CodeMethodNotAllowed},
		{"method_head", "HEAD", "/v2/proj_a/stats/record", tokA, 405, CodeMethodNotAllowed},
	}
	srv := newTestServer(t, serverOpts{})
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, nil)
			for k, v := range c.hdr {
				r.Header.Set(k, v)
			}
			w := do(t, srv, r)
			require.Equal(t, c.status, w.Code, w.Body.String())
			id := w.Header().Get(HeaderRequestID)
			require.False(t, seen[id], "request ids are unique")
			seen[id] = true
			if c.status == 405 {
				require.Equal(t, "GET", w.Header().Get("Allow"))
			}
			if c.code != "" {
				var eb ErrorBody
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &eb))
				require.Equal(t, c.code, eb.ErrorCode)
			}
			golden(t, c.name, w.Body.Bytes())
		})
	}
}

// TestHandlerParamNames checks that each 400 names the parameter of the contract's table.
func TestHandlerParamNames(t *testing.T) {
	srv := newTestServer(t, serverOpts{insecure: true})
	for target, name := range map[string]string{
		"/v2/proj_a/stats/record?start_time=x":                                                     "start_time",
		"/v2/proj_a/stats/record?end_time=x":                                                       "end_time",
		"/v2/proj_a/stats/record?start_time=2026-11-25T08:00:00Z&end_time=2026-11-25T07:59:59Z":    "end_time",
		"/v2/proj_a/stats/record?start_time=2026-10-25T09:59:59Z&end_time=2026-11-25T10:00:00Z":    "end_time",
		"/v2/proj_a/stats/record?start_time=2026-08-27T09:59:59Z&end_time=2026-08-28T00:00:00Z":    "start_time",
		"/v2/proj_a/stats/record?publish_domain=-a.com":                                            "publish_domain",
		"/v2/" + strings.Repeat("p", 65) + "/stats/record":                                         "project_id",
		"/v2/proj_a/stats/record?start_time=2026-11-25T08:00:00Z&end_time=2026-11-25T09:00:00Z&x=": "",
	} {
		w := do(t, srv, httptest.NewRequest("GET", target, nil))
		if name == "" {
			require.Equal(t, 200, w.Code, target)
			continue
		}
		require.Equal(t, 400, w.Code, target)
		require.JSONEq(t, `{"error_code":"LIVE.100011001","error_msg":"Invalid request parameter: `+name+`"}`, w.Body.String(), target)
	}
}

func TestHandlerAKSK(t *testing.T) {
	srv := newTestServer(t, serverOpts{})
	target := "http://live.example.com/v2/proj_a/stats/record?start_time=2026-11-25T08:00:00Z&end_time=2026-11-25T09:00:00Z"
	r := signedRequest(t, "AKA", "secret-a", testNow, target, map[string]string{"X-Project-Id": "proj_a"})
	w := do(t, srv, r)
	require.Equal(t, 200, w.Code, w.Body.String())
	require.JSONEq(t, `{"record_data_list":[{"time":"2026-11-25T08:17:00Z","concurrent_count":5},{"time":"2026-11-25T09:00:00Z","concurrent_count":2}]}`, w.Body.String())
	// The same signed request again, within the window, is served again (CONTRACT.md §6).
	w = do(t, srv, r)
	require.Equal(t, 200, w.Code, w.Body.String())
	// A wrong secret.
	w = do(t, srv, signedRequest(t, "AKA", "secret-b", testNow, target, nil))
	require.Equal(t, 401, w.Code)
	require.Contains(t, w.Body.String(), CodeAuthFailed)
	// A signed body that does not match.
	r = signedRequest(t, "AKA", "secret-a", testNow.Add(time.Second), target, nil)
	r.Body = http.NoBody
	r2 := httptest.NewRequest("GET", target, strings.NewReader("tampered"))
	r2.Header = r.Header
	w = do(t, srv, r2)
	require.Equal(t, 401, w.Code)
	// An oversized body.
	r3 := httptest.NewRequest("GET", target, bytes.NewReader(make([]byte, MaxBodyBytes+1)))
	w = do(t, srv, r3)
	require.Equal(t, 400, w.Code)
	require.Contains(t, w.Body.String(), "Invalid request parameter: body")
}

func TestHandlerNotReady(t *testing.T) {
	var ready atomic.Bool
	srv := newTestServer(t, serverOpts{ready: ready.Load})
	get := func(target, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", target, nil)
		if token != "" {
			r.Header.Set("X-Auth-Token", token)
		}
		return do(t, srv, r)
	}
	w := get("/v2/proj_a/stats/record", "token-a")
	require.Equal(t, 503, w.Code)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	golden(t, "not_ready", w.Body.Bytes())
	// Authentication and parameters are still checked first.
	require.Equal(t, 401, get("/v2/proj_a/stats/record", "").Code)
	require.Equal(t, 400, get("/v2/proj_a/stats/record?start_time=x", "token-a").Code)
	ready.Store(true)
	require.Equal(t, 200, get("/v2/proj_a/stats/record", "token-a").Code)
}

func TestHandlerPanicIs500(t *testing.T) {
	var logBuf bytes.Buffer
	auth := NewInsecureAuthenticator()
	srv, err := NewServer(ServerConfig{Auth: auth, Source: panicSource{}, Now: fixedClock(testNow),
		Log: slogTo(&logBuf)})
	require.NoError(t, err)
	w := do(t, srv, httptest.NewRequest("GET", "/v2/proj_a/stats/record", nil))
	require.Equal(t, 500, w.Code)
	require.NotContains(t, w.Body.String(), "secret")
	golden(t, "internal_error", w.Body.Bytes())
	require.Contains(t, logBuf.String(), "store exploded", "the log has the detail")
	require.Contains(t, logBuf.String(), w.Header().Get(HeaderRequestID))
}

func TestHandlerMetricsAndOps(t *testing.T) {
	reg := prometheus.NewRegistry()
	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	srv := newTestServer(t, serverOpts{insecure: true, reg: reg, ops: ops})
	do(t, srv, httptest.NewRequest("GET", "/v2/proj_a/stats/record", nil))
	do(t, srv, httptest.NewRequest("GET", "/v2/proj_a/stats/record?start_time=x", nil))
	do(t, srv, httptest.NewRequest("GET", "/nope", nil))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	require.Equal(t, "ok\n", w.Body.String())
	require.Regexp(t, requestIDPattern, w.Header().Get(HeaderRequestID))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	counts := map[string]float64{}
	var observed uint64
	for _, mf := range mfs {
		switch mf.GetName() {
		case "recordusage_query_http_requests_total":
			for _, m := range mf.GetMetric() {
				counts[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		case "recordusage_query_http_request_duration_seconds":
			observed = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	require.Equal(t, map[string]float64{"200": 2, "400": 1, "404": 1}, nonZero(counts))
	require.Equal(t, uint64(4), observed)
}

func nonZero(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func TestOpenAPIServedAndInSync(t *testing.T) {
	srv := newTestServer(t, serverOpts{insecure: true})
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", PathOpenAPI, nil))
	require.Equal(t, 200, w.Code)
	require.Equal(t, "application/yaml", w.Header().Get("Content-Type"))
	require.Equal(t, OpenAPI, w.Body.Bytes())
	require.Contains(t, string(OpenAPI), "/v2/{project_id}/stats/record:")
	docs, err := os.ReadFile(filepath.Join("..", "docs", "openapi.yaml"))
	require.NoError(t, err)
	require.Equal(t, string(OpenAPI), string(docs), "docs/openapi.yaml must be a copy of api/openapi.yaml: cp api/openapi.yaml docs/openapi.yaml")
	for _, code := range []string{CodeInvalidParam, CodeAuthFailed, CodeForbiddenProject, CodeNotFound, CodeMethodNotAllowed, CodeInternal} {
		require.Contains(t, string(OpenAPI), code)
	}
	w = do(t, srv, httptest.NewRequest("POST", PathOpenAPI, nil))
	require.Equal(t, 405, w.Code)
}

// TestProjectIsolation checks that no credential of one project ever reads another's data,
// whatever the kind of credential, and that "*" and insecure mode read exactly the project
// of the path.
func TestProjectIsolation(t *testing.T) {
	clock := newTestClock(testNow)
	srv := newTestServer(t, serverOpts{clock: clock.Now})
	insecure := newTestServer(t, serverOpts{insecure: true})
	const q = "?start_time=2026-11-25T08:00:00Z&end_time=2026-11-25T09:00:00Z"
	want := map[string]string{
		"proj_a": `{"record_data_list":[{"time":"2026-11-25T08:17:00Z","concurrent_count":5},{"time":"2026-11-25T09:00:00Z","concurrent_count":2}]}`,
		"proj_b": `{"record_data_list":[{"time":"2026-11-25T08:05:00Z","concurrent_count":99},{"time":"2026-11-25T09:00:00Z","concurrent_count":0}]}`,
	}
	type cred struct {
		name  string
		grant string // project granted, "*" for all
		apply func(r *http.Request, target string) *http.Request
	}
	token := func(tok string) func(*http.Request, string) *http.Request {
		return func(r *http.Request, _ string) *http.Request { r.Header.Set("X-Auth-Token", tok); return r }
	}
	n := 0
	aksk := func(ak, sk string, hdr map[string]string) func(*http.Request, string) *http.Request {
		return func(_ *http.Request, target string) *http.Request {
			n++ // a distinct date per request, so that each is signed anew
			return signedRequest(t, ak, sk, clock.Now().Add(time.Duration(n)*time.Second), "http://h"+target, hdr)
		}
	}
	creds := []cred{
		{"token_a", "proj_a", token("token-a")},
		{"token_b", "proj_b", token("token-b")},
		{"token_op", "*", token("token-op")},
		{"aksk_a", "proj_a", aksk("AKA", "secret-a", nil)},
		{"aksk_b", "proj_b", aksk("AKB", "secret-b", nil)},
		{"aksk_op", "*", aksk("AKOP", "secret-op", nil)},
		{"aksk_a_claiming_b", "none", aksk("AKA", "secret-a", map[string]string{"X-Project-Id": "proj_b"})},
		{"aksk_op_claiming_b", "proj_b", aksk("AKOP", "secret-op", map[string]string{"X-Project-Id": "proj_b"})},
	}
	for _, c := range creds {
		for _, project := range []string{"proj_a", "proj_b"} {
			target := "/v2/" + project + "/stats/record" + q
			w := do(t, srv, c.apply(httptest.NewRequest("GET", target, nil), target))
			if c.grant == "*" || c.grant == project {
				require.Equal(t, 200, w.Code, "%s on %s: %s", c.name, project, w.Body.String())
				require.JSONEq(t, want[project], w.Body.String(), "%s on %s", c.name, project)
				continue
			}
			require.Equal(t, 401, w.Code, "%s on %s", c.name, project)
			require.Contains(t, w.Body.String(), CodeForbiddenProject, "%s on %s", c.name, project)
			require.NotContains(t, w.Body.String(), "concurrent_count")
		}
	}
	for project, body := range want {
		w := do(t, insecure, httptest.NewRequest("GET", "/v2/"+project+"/stats/record"+q, nil))
		require.JSONEq(t, body, w.Body.String(), "insecure mode serves the path's project only")
	}
}

func TestAppendRecordDataList(t *testing.T) {
	start := ts("2024-02-28T22:00:00Z") // leap day ahead
	peaks := make([]Peak, 28)
	peaks[0] = Peak{Count: 1, Minute: 59}
	peaks[3] = Peak{Count: 4294967295, Minute: 1}
	peaks[5] = Peak{Count: 0, Minute: 30} // a zero count is reported at the hour
	out := appendRecordDataList(nil, start, peaks)
	var got struct {
		List []struct {
			Time  string `json:"time"`
			Count uint32 `json:"concurrent_count"`
		} `json:"record_data_list"`
	}
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got.List, 28)
	for i, p := range got.List {
		h := start.Add(time.Duration(i) * time.Hour)
		wantTime := h
		if peaks[i].Count > 0 {
			wantTime = h.Add(time.Duration(peaks[i].Minute) * time.Minute)
		}
		require.Equal(t, wantTime.Format(TimeLayout), p.Time)
		require.Equal(t, peaks[i].Count, p.Count)
	}
	require.Equal(t, "2024-02-29T00:00:00Z", got.List[2].Time)
	require.Equal(t, "2024-03-01T00:00:00Z", got.List[26].Time)
}
