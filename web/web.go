package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Prefix is where the chart is served; the API server routes "/", "/chart" and everything
// under Prefix to Handler (api.PathChart).
const Prefix = "/chart/"

// ContentSecurityPolicy is sent with every page and asset. It allows scripts, styles, images
// and fetches from the service's own origin only; the page has no inline script or style
// (element.style set from script is CSSOM, which style-src does not restrict). form-action
// 'none' makes sure that even without its script the form cannot send the token anywhere.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed assets
var assets embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// files maps a path under Prefix to its asset; "" is the page itself. Read-only after init.
var files = func() map[string]asset {
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
	}
	m := map[string]asset{}
	entries, err := assets.ReadDir("assets")
	if err != nil {
		panic(err) // the directory is embedded: this cannot fail
	}
	for _, e := range entries {
		name := e.Name()
		dot := strings.LastIndexByte(name, '.')
		ct, ok := types[name[max(dot, 0):]]
		if dot < 0 || !ok {
			panic("web: embedded asset without a known content type: " + name)
		}
		body, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		a := asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		m[name] = a
		if name == "index.html" {
			m[""] = a
		}
	}
	return m
}()

// Handler returns the handler of the chart pages. It serves the embedded assets under Prefix
// (GET and HEAD), redirects "/" and "/chart" to Prefix, and answers 404 for anything else.
// It is meant to be mounted as api.ServerConfig.Pages.
func Handler() http.Handler { return http.HandlerFunc(serve) }

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/" || r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		// A relative Location ("/" and "/chart" both resolve "chart/" to "/chart/"), so that
		// it also works behind a proxy that mounts the service on a sub-path. http.Redirect
		// would make it absolute.
		h.Set("Location", "chart/")
		w.WriteHeader(http.StatusFound)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	a, found := files[name]
	if !ok || !found {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	// The assets change only with the binary: revalidate every time, cheaply, by ETag.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
