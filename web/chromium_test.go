package web_test

// The chart in a real browser: headless Chromium against the query server in-process.
//
// How the test drives the page without a DevTools client (the module has no websocket
// library) and without a test hook in the production page: Chromium runs one-shot with
// --dump-dom (or --screenshot) and --virtual-time-budget, which lets the page load, fetch and
// draw before the DOM is printed. The page itself already loads a chart on its own when its URL
// fragment names a project and the tab's sessionStorage holds a token (that is how a reload
// keeps the chart). So the test server has one extra route, in this file only, that puts the
// token into sessionStorage and replaces itself with /chart/#project=…&start=…&end=…: the
// token is never in the chart's URL, exactly as in production.

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tokenKey is the sessionStorage key of the token in chart.js.
const tokenKey = "recordusage.token"

// sessionPath is the test-only route that stores a token in the tab and opens the chart.
const sessionPath = "/test/session"

var sessionPage = template.Must(template.New("session").Parse(`<!doctype html>
<meta charset="utf-8"><title>test session</title>
<script>sessionStorage.setItem({{.Key}}, {{.Token}}); location.replace({{.Next}});</script>
`))

// chromiumBinary returns the path of Chromium, or skips the test when there is none, unless
// RECORD_REQUIRE_CHROMIUM=1 (CI), which makes a missing browser a failure.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("RECORD_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("RECORD_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)")
	}
	t.Skip("no chromium on PATH; set RECORD_REQUIRE_CHROMIUM=1 to make this a failure")
	return ""
}

// browserServer serves the query service (newQueryServer) plus sessionPath.
func browserServer(t *testing.T) *httptest.Server {
	t.Helper()
	api := newQueryServer(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+sessionPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		sessionPage.Execute(w, map[string]string{"Key": tokenKey, "Token": r.URL.Query().Get("token"),
			"Next": "/chart/#" + r.URL.Query().Get("fragment")})
	})
	mux.Handle("/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// runChromium runs one headless Chromium with a fresh profile and returns its standard output.
func runChromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,800",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "chromium %v\nstderr:\n%s", args, stderr.String())
	return stdout.String()
}

// chartURL is the URL that opens the chart with token in this tab, for the query in frag.
func chartURL(srv *httptest.Server, token string, frag url.Values) string {
	q := url.Values{"token": {token}, "fragment": {frag.Encode()}}
	return srv.URL + sessionPath + "?" + q.Encode()
}

// fullDay is the query of the whole data set: 24 hours.
func fullDay() url.Values {
	return url.Values{"project": {testProject}, "start": {"2026-11-25T00:00:00Z"}, "end": {"2026-11-25T23:00:00Z"}}
}

var (
	rectTag = regexp.MustCompile(`<rect\b[^>]*>`)
	attrRe  = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// bar is one rect.bar of the dumped DOM.
type bar struct {
	hour   string
	count  int
	height float64
}

func bars(t *testing.T, dom string) []bar {
	t.Helper()
	var out []bar
	for _, tag := range rectTag.FindAllString(dom, -1) {
		attrs := map[string]string{}
		for _, m := range attrRe.FindAllStringSubmatch(tag, -1) {
			attrs[m[1]] = m[2]
		}
		if !strings.Contains(" "+attrs["class"]+" ", " bar ") {
			continue
		}
		h, err := strconv.ParseFloat(attrs["height"], 64)
		require.NoError(t, err, tag)
		c, err := strconv.Atoi(attrs["data-count"])
		require.NoError(t, err, tag)
		out = append(out, bar{hour: attrs["data-hour"], count: c, height: h})
	}
	return out
}

func errorText(dom string) (text string, visible bool) {
	m := regexp.MustCompile(`(?s)<div id="error"([^>]*)>(.*?)</div>`).FindStringSubmatch(dom)
	if m == nil {
		return "", false
	}
	return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[2], " "), !strings.Contains(m[1], "hidden")
}

func TestChromiumChart(t *testing.T) {
	bin := chromiumBinary(t)
	srv := browserServer(t)

	t.Run("bars", func(t *testing.T) {
		dom := runChromium(t, bin, "--dump-dom", chartURL(srv, testToken, fullDay()))
		if msg, visible := errorText(dom); visible {
			t.Fatalf("the page shows an error: %s", msg)
		}
		got := bars(t, dom)
		require.Len(t, got, len(dataset), "one bar per hour")
		for i, b := range got {
			require.Equal(t, day.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), b.hour)
			require.Equal(t, int(dataset[i].count), b.count, b.hour)
			if b.count == 0 {
				require.Zero(t, b.height, b.hour)
			}
		}
		// The heights are in the order of the counts.
		for i := range got {
			for j := range got {
				ci, cj := got[i].count, got[j].count
				hi, hj := got[i].height, got[j].height
				require.Equal(t, ci < cj, hi < hj, "%s (%d, h %.2f) vs %s (%d, h %.2f)",
					got[i].hour, ci, hi, got[j].hour, cj, hj)
			}
		}
		// The hover text and the table.
		require.Contains(t, dom, `aria-label="2026-11-25 12:00 UTC — peak 42 at 12:17"`)
		require.Contains(t, dom, `class="bar max"`)
		tbody := regexp.MustCompile(`(?s)<tbody>(.*)</tbody>`).FindStringSubmatch(dom)
		require.NotNil(t, tbody)
		require.Equal(t, len(dataset), strings.Count(tbody[1], "<tr"))
		require.Contains(t, tbody[1], `<td>2026-11-25 12:00</td><td class="num">42</td><td>12:17</td>`)
		// The token stayed out of the address: the page rewrote its fragment without it.
		require.NotContains(t, dom, testToken)
	})

	f := func(name, token string, q url.Values, want string) {
		t.Run(name, func(t *testing.T) {
			dom := runChromium(t, bin, "--dump-dom", chartURL(srv, token, q))
			msg, visible := errorText(dom)
			require.True(t, visible, "no visible error element in:\n%s", dom)
			require.Contains(t, msg, want)
			require.Empty(t, bars(t, dom))
		})
	}
	f("bad credential", "not-a-token", fullDay(), "LIVE.100011002")
	other := fullDay()
	other.Set("project", "p2")
	f("other project", testToken, other, "LIVE.100011015")
	badDomain := fullDay()
	badDomain.Set("domain", "bad_domain")
	f("bad parameter", testToken, badDomain, "LIVE.100011001: Invalid request parameter: publish_domain")
	badRange := fullDay()
	badRange.Set("end", "2026-11-24T00:00:00Z")
	f("bad range", testToken, badRange, "LIVE.100011001: Invalid request parameter: end_time")

	t.Run("screenshot", func(t *testing.T) {
		// RECORD_UPDATE_SCREENSHOT=1 rewrites the screenshot of docs/chart.md.
		out := filepath.Join(t.TempDir(), "chart.png")
		if os.Getenv("RECORD_UPDATE_SCREENSHOT") == "1" {
			out = filepath.Join("..", "docs", "chart.png")
		}
		abs, err := filepath.Abs(out)
		require.NoError(t, err)
		os.Remove(abs)
		runChromium(t, bin, "--screenshot="+abs, chartURL(srv, testToken, fullDay()))
		b, err := os.ReadFile(abs)
		require.NoError(t, err)
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, 1200, img.Bounds().Dx())
		require.Equal(t, 800, img.Bounds().Dy())
		// The bars are drawn: plenty of pixels in the bar colours of chart.css.
		barPixels := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				c := fmt.Sprintf("%02x%02x%02x", r>>8, g>>8, b>>8)
				if c == "2f6fdf" || c == "e0742b" {
					barPixels++
				}
			}
		}
		require.Greater(t, barPixels, 20000, "bar pixels in the screenshot")
		t.Logf("screenshot: %s (%d bytes, %d bar pixels)", abs, len(b), barPixels)
	})
}
