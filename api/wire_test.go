package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/logbuf"
	"github.com/recordusage/recordusage/internal/ops"
	"github.com/recordusage/recordusage/internal/promtest"
)

// TestWireRefusals sends raw requests that net/http refuses before any handler runs to the
// server as cmd/query builds it (ops.Start with Server.Refuse), and checks that every answer is
// in the contract's shape (CONTRACT.md §5): X-Request-Id, a JSON error body, application/json.
func TestWireRefusals(t *testing.T) {
	var logBuf logbuf.Buffer
	reg := prometheus.NewRegistry()
	srv, err := NewServer(ServerConfig{Auth: NewAuthenticator(newTestStore(t, testCreds), fixedClock(testNow)),
		Source: testSource(), Now: fixedClock(testNow), Registerer: reg, Log: slogToLevel(&logBuf, "info")})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	hs, err := ops.Start(ctx, ops.ServerConfig{Addr: "127.0.0.1:0", Handler: srv, Refuse: srv.Refuse,
		Limits: ops.Limits{MaxHeaderBytes: 4 << 10}}, slogToLevel(io.Discard, "info"))
	require.NoError(t, err)
	defer func() { cancel(); require.NoError(t, <-hs.Done()) }()
	addr := hs.Addr().String()

	const api = "GET /v2/proj_a/stats/record HTTP/1.1\r\nHost: live.example.com\r\n"
	cases := []struct {
		name   string
		raw    string
		status int
		msg    string
	}{
		{"bare CR", api + "X-Auth-Token: token-a\rX-Evil: 1\r\n\r\n", 400, "Malformed HTTP request."},
		{"escape byte", api + "X-Auth-Token: token-a\x1b\r\n\r\n", 400, "Malformed HTTP request."},
		{"NUL byte", api + "X-Auth-Token: tok\x00en\r\n\r\n", 400, "Malformed HTTP request."},
		{"invalid header name", api + "X-Auth Token: token-a\r\n\r\n", 400, "Malformed HTTP request: invalid header name."},
		{"malformed request line", "GET /v2/proj_a/stats/record\r\nHost: x\r\n\r\n", 400, "Malformed HTTP request."},
		{"no Host", "GET /v2/proj_a/stats/record HTTP/1.1\r\n\r\n", 400, "Malformed HTTP request: missing required Host header."},
		{"unsupported version", "GET /v2/proj_a/stats/record HTTP/9.9\r\nHost: x\r\n\r\n", 505, "Malformed HTTP request: unsupported protocol version."},
		{"header over the limit", api + "X-Auth-Token: " + strings.Repeat("t", 16<<10) + "\r\n\r\n", 431, "Request header fields too large."},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = io.WriteString(conn, c.raw)
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, c.status, resp.StatusCode, string(body))
			id := resp.Header.Get(HeaderRequestID)
			require.Regexp(t, requestIDPattern, id)
			require.False(t, seen[id])
			seen[id] = true
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.JSONEq(t, `{"error_code":"`+CodeInvalidParam+`","error_msg":"`+c.msg+`"}`, string(body))
			var line map[string]any
			require.NoError(t, json.Unmarshal(bytes.TrimSpace(logBuf.Take()), &line))
			require.Equal(t, "request refused", line["msg"])
			require.Equal(t, id, line["request_id"])
			require.EqualValues(t, c.status, line["status"])
			require.Equal(t, CodeInvalidParam, line["error_code"])
			require.NotContains(t, line, "project", "the request was never parsed")
		})
	}
	counts := promtest.ByLabel(t, reg, "recordusage_query_http_requests_total", "code")
	require.Equal(t, 6.0, counts["400"])
	require.Equal(t, 1.0, counts["431"])
	require.Equal(t, 1.0, counts["505"])

	// The API itself is unchanged behind the wrapper.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, api+"X-Auth-Token: token-a\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Regexp(t, requestIDPattern, resp.Header.Get(HeaderRequestID))
}
