package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/promtest"
)

// logLines parses the JSON lines of buf and empties it.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	buf.Reset()
	return out
}

// TestAccessLogRefused checks that each refused request gives exactly one info line with the
// status, error code, request id, project, credential scheme and reason, that no secret is in
// it, and that authentication failures are counted by reason.
func TestAccessLogRefused(t *testing.T) {
	var logBuf bytes.Buffer
	reg := prometheus.NewRegistry()
	clock := fixedClock(testNow)
	srv, err := NewServer(ServerConfig{Auth: NewAuthenticator(newTestStore(t, testCreds), clock),
		Source: testSource(), Now: clock, Registerer: reg, Log: slogTo(&logBuf)})
	require.NoError(t, err)
	// The logger is at debug level here (slogTo); successes are checked to be debug lines.
	target := "http://live.example.com/v2/proj_a/stats/record?start_time=2026-11-25T08:00:00Z"
	withToken := func(tok string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("X-Auth-Token", tok)
		return r
	}
	tampered := signedRequest(t, "AKA", "secret-a", testNow, target, nil)
	tampered.Header.Set("X-Project-Id", "proj_a") // added after signing: not signed, but harmless
	tampered.URL.RawQuery = "start_time=2026-11-25T07:00:00Z"
	cases := []struct {
		name    string
		r       *http.Request
		status  int
		code    string
		project string
		scheme  string
		reason  string
		ak      string
	}{
		{"unknown token", withToken("s3cr3t-unknown-token"), 401, CodeAuthFailed, "proj_a", "token", "unknown_token", ""},
		{"unknown key", signedRequest(t, "AKX", "secret-x", testNow, target, nil), 401, CodeAuthFailed, "proj_a", "aksk", "unknown_key", ""},
		{"bad signature", signedRequest(t, "AKA", "secret-wrong", testNow, target, nil), 401, CodeAuthFailed, "proj_a", "aksk", "bad_signature", "AKA"},
		{"tampered", tampered, 401, CodeAuthFailed, "proj_a", "aksk", "bad_signature", "AKA"},
		{"old date", signedRequest(t, "AKA", "secret-a", testNow.Add(-16*time.Minute), target, nil), 401, CodeAuthFailed, "proj_a", "aksk", "date_out_of_window", ""},
		{"wrong project", withToken("token-b"), 401, CodeForbiddenProject, "proj_a", "token", "wrong_project", ""},
		{"no credentials", httptest.NewRequest("GET", target, nil), 401, CodeAuthFailed, "proj_a", "none", "no_credentials", ""},
		{"bad parameter", withToken("token-a"), 0, CodeInvalidParam, "proj_a", "token", "invalid_parameter", ""},
		{"not found", httptest.NewRequest("GET", "/nope", nil), 404, CodeNotFound, "", "none", "not_found", ""},
	}
	cases[7].r.URL.RawQuery = "start_time=yesterday"
	cases[7].status = 400
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(t, srv, c.r)
			require.Equal(t, c.status, w.Code, w.Body.String())
			lines := logLines(t, &logBuf)
			require.Len(t, lines, 1, "one line per refused request")
			l := lines[0]
			require.Equal(t, "INFO", l["level"])
			require.Equal(t, "request refused", l["msg"])
			require.EqualValues(t, c.status, l["status"])
			require.Equal(t, c.code, l["error_code"])
			require.Equal(t, w.Header().Get(HeaderRequestID), l["request_id"])
			require.Equal(t, c.reason, l["reason"])
			require.Equal(t, c.scheme, l["auth"])
			if c.project != "" {
				require.Equal(t, c.project, l["project"])
			} else {
				require.NotContains(t, l, "project")
			}
			if c.ak != "" {
				require.Equal(t, c.ak, l["access_key"])
			} else {
				require.NotContains(t, l, "access_key")
			}
			raw, _ := json.Marshal(l)
			secrets := []string{"secret-", "token-", "s3cr3t", "Signature", "SDK-HMAC"}
			if a := c.r.Header.Get("Authorization"); a != "" {
				_, _, sig, err := ParseAuthorization(a)
				require.NoError(t, err)
				secrets = append(secrets, sig)
			}
			for _, s := range secrets {
				require.NotContains(t, string(raw), s)
			}
		})
	}
	for reason, want := range map[AuthReason]float64{ReasonUnknownToken: 1, ReasonUnknownKey: 1,
		ReasonBadSignature: 2, ReasonDateOutOfWindow: 1, ReasonWrongProject: 1, ReasonNoCredentials: 1,
		ReasonMalformedDate: 0} {
		require.Equal(t, want, promtest.ByLabel(t, reg, "recordusage_query_auth_failures_total", "reason")[string(reason)], reason)
	}
	// Every reason is exported from the start.
	require.Len(t, promtest.ByLabel(t, reg, "recordusage_query_auth_failures_total", "reason"), len(AuthReasons))

	// A success is one debug line.
	r := signedRequest(t, "AKA", "secret-a", testNow, target, nil)
	require.Equal(t, 200, do(t, srv, r).Code)
	lines := logLines(t, &logBuf)
	require.Len(t, lines, 1)
	require.Equal(t, "DEBUG", lines[0]["level"])
	require.Equal(t, "request served", lines[0]["msg"])
	require.Equal(t, "aksk", lines[0]["auth"])
	require.Equal(t, "AKA", lines[0]["access_key"])
	require.NotContains(t, lines[0], "error_code")
}

// TestAccessLogInfoLevel checks that at info level a success logs nothing and a refusal one
// line.
func TestAccessLogInfoLevel(t *testing.T) {
	var logBuf bytes.Buffer
	srv, err := NewServer(ServerConfig{Auth: NewInsecureAuthenticator(), Source: testSource(),
		Now: fixedClock(testNow), Log: slogToLevel(&logBuf, "info")})
	require.NoError(t, err)
	require.Equal(t, 200, do(t, srv, httptest.NewRequest("GET", "/v2/proj_a/stats/record", nil)).Code)
	require.Empty(t, logBuf.String())
	require.Equal(t, 400, do(t, srv, httptest.NewRequest("GET", "/v2/proj_a/stats/record?end_time=x", nil)).Code)
	require.Len(t, logLines(t, &logBuf), 1)
}

// TestRefuse checks the answer to a request refused before routing: the status net/http chose,
// the contract's body, a request id, one log line and the request counter.
func TestRefuse(t *testing.T) {
	var logBuf bytes.Buffer
	reg := prometheus.NewRegistry()
	srv, err := NewServer(ServerConfig{Auth: NewInsecureAuthenticator(), Source: testSource(),
		Registerer: reg, Log: slogTo(&logBuf)})
	require.NoError(t, err)
	for _, c := range []struct {
		status int
		detail string
		msg    string
		reason string
	}{
		{400, "invalid header value", "Malformed HTTP request: invalid header value.", "malformed_request"},
		{400, "", "Malformed HTTP request.", "malformed_request"},
		{431, "", "Request header fields too large.", "header_too_large"},
		{505, "unsupported protocol version", "Malformed HTTP request: unsupported protocol version.", "malformed_request"},
		{200, "", "Malformed HTTP request.", "malformed_request"}, // not an error status: 400
	} {
		h, body := srv.Refuse(c.status, c.detail, "192.0.2.1:1234")
		require.Regexp(t, requestIDPattern, h.Get(HeaderRequestID))
		require.Equal(t, "application/json", h.Get("Content-Type"))
		require.JSONEq(t, `{"error_code":"LIVE.100011001","error_msg":"`+c.msg+`"}`, string(body))
		lines := logLines(t, &logBuf)
		require.Len(t, lines, 1)
		require.Equal(t, "request refused", lines[0]["msg"])
		require.Equal(t, c.reason, lines[0]["reason"])
		require.Equal(t, h.Get(HeaderRequestID), lines[0]["request_id"])
		require.Equal(t, "192.0.2.1:1234", lines[0]["remote_addr"])
	}
	counts := promtest.ByLabel(t, reg, "recordusage_query_http_requests_total", "code")
	require.Equal(t, 3.0, counts["400"])
	require.Equal(t, 1.0, counts["431"])
}
