package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzHandler sends arbitrary paths, queries, methods and credentials through the whole
// handler: it must never answer 5xx, and every response must carry a request id and, for the
// API, a JSON body.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "/v2/proj_a/stats/record", "start_time=2026-11-25T07:00:00Z&end_time=2026-11-25T09:00:00Z", "")
	f.Add("GET", "/v2/proj_a/stats/record", "publish_domain=push.example.com", "token-a")
	f.Add("POST", "/v2//stats/record", "start_time=%zz", "")
	f.Add("GET", "/v2/a/b/stats/record", ";;&&==", "token-op")
	f.Add("GET", "/v2/proj_a/stats/record", "end_time=2026-11-25T07:00:00Z&start_time=2026-01-01T00:00:00Z", "SDK-HMAC-SHA256 Access=AKA, SignedHeaders=x-sdk-date, Signature=00")
	srv := newTestServer(f, serverOpts{})
	f.Fuzz(func(t *testing.T, method, path, rawQuery, credential string) {
		if method == "" || !validHeaderName(toLower(method)) {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.URL = &url.URL{Path: path, RawQuery: rawQuery}
		r.RequestURI = r.URL.RequestURI()
		if credential != "" {
			if len(credential) > 15 && credential[:15] == SignAlgorithm {
				r.Header.Set("Authorization", credential)
				r.Header.Set("X-Sdk-Date", "20261125T103000Z")
			} else {
				r.Header["X-Auth-Token"] = []string{credential}
			}
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %q ?%q: status %d: %s", method, path, rawQuery, w.Code, w.Body.String())
		}
		if !requestIDPattern.MatchString(w.Header().Get(HeaderRequestID)) {
			t.Fatalf("no request id")
		}
		if w.Code != http.StatusOK && !json.Valid(w.Body.Bytes()) && method != http.MethodHead {
			t.Fatalf("status %d with a non-JSON body %q", w.Code, w.Body.String())
		}
	})
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
