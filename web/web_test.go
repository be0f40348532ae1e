package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/query"
	"github.com/recordusage/recordusage/results"
	"github.com/recordusage/recordusage/web"
)

// day is the day of the test data set; the server's clock is the next midnight.
var day = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

const (
	testToken   = "chart-token"
	testProject = "p1"
)

// dataset is the peak and its minute for each hour of day (a working day's shape, with two
// empty hours); every count is distinct except the zeros, so that the bar heights have one
// order.
var dataset = []struct {
	count  uint32
	minute int
}{
	{3, 12}, {2, 40}, {0, 0}, {1, 5}, {0, 0}, {4, 59}, {9, 30}, {17, 45},
	{26, 2}, {34, 17}, {38, 8}, {41, 51}, {42, 17}, {39, 33}, {37, 0}, {35, 21},
	{36, 44}, {33, 9}, {29, 14}, {31, 27}, {27, 38}, {22, 50}, {14, 3}, {7, 25},
}

// newQueryServer returns the query service's handler the way cmd/query builds it (the same
// api.NewServer with web.Handler() as Pages), over a store holding dataset for testProject
// and a credentials file granting testToken that project.
func newQueryServer(t testing.TB) http.Handler {
	t.Helper()
	store := query.NewStore()
	for i, d := range dataset {
		hour := day.Add(time.Duration(i) * time.Hour)
		store.Put(results.Record{ProjectID: testProject, Hour: hour.Unix(),
			Peak: results.Peak{Count: d.count, Minute: uint8(d.minute)}})
	}
	creds := filepath.Join(t.TempDir(), "credentials.json")
	require.NoError(t, os.WriteFile(creds,
		[]byte(`{"tokens":[{"token":"`+testToken+`","project_id":"`+testProject+`"}]}`), 0o600))
	cs, err := api.NewStore(creds)
	require.NoError(t, err)
	srv, err := api.NewServer(api.ServerConfig{
		Auth:   api.NewAuthenticator(cs, nil),
		Source: store,
		Now:    func() time.Time { return day.Add(24*time.Hour + 30*time.Minute) },
		Pages:  web.Handler(),
	})
	require.NoError(t, err)
	return srv
}

func TestAssetsContentTypesAndHeaders(t *testing.T) {
	srv := newQueryServer(t)
	f := func(path, contentType, contains string) {
		t.Helper()
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, httptest.NewRequest(method, path, nil))
			require.Equal(t, http.StatusOK, w.Code, "%s %s", method, path)
			h := w.Header()
			require.Equal(t, contentType, h.Get("Content-Type"), path)
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
			require.Equal(t, web.ContentSecurityPolicy, h.Get("Content-Security-Policy"), path)
			require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'self'")
			require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			require.Equal(t, "DENY", h.Get("X-Frame-Options"))
			require.NotEmpty(t, h.Get("ETag"))
			require.NotEmpty(t, h.Get(api.HeaderRequestID), "served through the API server's middleware")
			if method == http.MethodGet {
				require.Contains(t, w.Body.String(), contains, path)
			} else {
				require.Empty(t, w.Body.String())
			}
		}
	}
	f("/chart/", "text/html; charset=utf-8", `<script src="chart.js" defer></script>`)
	f("/chart/index.html", "text/html; charset=utf-8", `id="chart"`)
	f("/chart/chart.js", "text/javascript; charset=utf-8", "X-Auth-Token")
	f("/chart/chart.css", "text/css; charset=utf-8", ".bar")
}

func TestRedirectsAndRefusals(t *testing.T) {
	srv := newQueryServer(t)
	do := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	for _, path := range []string{"/", "/chart"} {
		w := do(http.MethodGet, path)
		require.Equal(t, http.StatusFound, w.Code, path)
		require.Equal(t, "chart/", w.Header().Get("Location"), path)
	}
	w := do(http.MethodGet, "/chart/missing.js")
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	w = do(http.MethodGet, "/chart/assets/chart.js")
	require.Equal(t, http.StatusNotFound, w.Code)
	w = do(http.MethodPost, "/chart/")
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, "GET, HEAD", w.Header().Get("Allow"))

	// Revalidation by ETag.
	w = do(http.MethodGet, "/chart/chart.js")
	req := httptest.NewRequest(http.MethodGet, "/chart/chart.js", nil)
	req.Header.Set("If-None-Match", w.Header().Get("ETag"))
	w2 := httptest.NewRecorder()
	srv.ServeHTTP(w2, req)
	require.Equal(t, http.StatusNotModified, w2.Code)

	// The API and the other paths are untouched by the mount.
	w = do(http.MethodGet, "/charts")
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Contains(t, w.Body.String(), "LIVE.103011019")
	req = httptest.NewRequest(http.MethodGet, "/v2/p1/stats/record?start_time=2026-11-25T05:00:00Z&end_time=2026-11-25T06:00:00Z", nil)
	req.Header.Set("X-Auth-Token", testToken)
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, `{"record_data_list":[{"time":"2026-11-25T05:59:00Z","concurrent_count":4},{"time":"2026-11-25T06:30:00Z","concurrent_count":9}]}`, w.Body.String())
}

// TestNoPagesWithoutMount: an api.Server without Pages keeps answering 404 on "/" and /chart/.
func TestNoPagesWithoutMount(t *testing.T) {
	srv, err := api.NewServer(api.ServerConfig{Auth: api.NewInsecureAuthenticator(), Source: query.NewStore()})
	require.NoError(t, err)
	for _, path := range []string{"/", "/chart/"} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusNotFound, w.Code, path)
	}
}

// TestPageKeepsToCSP checks what the Content-Security-Policy and the token rules need of the
// page's source: no inline script or style, and no named input (a form submitted without its
// script must not put the token in a URL); the script never touches localStorage.
func TestPageKeepsToCSP(t *testing.T) {
	srv := newQueryServer(t)
	get := func(path string) string {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, w.Code)
		b, err := io.ReadAll(w.Body)
		require.NoError(t, err)
		return string(b)
	}
	page := get("/chart/")
	for _, m := range regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		require.Contains(t, m[0], `src=`, "inline script")
		require.Empty(t, strings.TrimSpace(m[1]), "inline script")
	}
	require.NotRegexp(t, `(?i)<style|\sstyle=|\son[a-z]+=|javascript:`, page)
	require.NotRegexp(t, `(?i)<(input|select|textarea)\b[^>]*\sname=`, page)
	require.Regexp(t, `<input id="token" type="password"`, page)
	js := get("/chart/chart.js")
	for _, bad := range []string{`localStorage\s*[.\[]`, `\.(innerHTML|outerHTML)\b`, `insertAdjacentHTML`,
		`document\.write`, `setAttribute\(\s*'style'`, `\beval\(`} {
		require.False(t, regexp.MustCompile(bad).MatchString(js), "chart.js matches %s", bad)
	}
	require.Contains(t, js, "sessionStorage.setItem")
}
