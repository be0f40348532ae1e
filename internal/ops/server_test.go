package ops

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// refusals is a RefuseFunc that records what it was asked and answers in JSON.
type refusals struct {
	mu  sync.Mutex
	got []string // "status detail"
}

func (f *refusals) refuse(status int, detail, remote string) (http.Header, []byte) {
	f.mu.Lock()
	f.got = append(f.got, strconv.Itoa(status)+" "+detail)
	n := len(f.got)
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]string{"error_code": "E" + strconv.Itoa(status), "error_msg": detail})
	return http.Header{"X-Request-Id": {strconv.Itoa(n)}, "Content-Type": {"application/json"}}, b
}

func (f *refusals) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// hello answers "hello" and says whether the request came over TLS.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-TLS", strconv.FormatBool(r.TLS != nil && r.TLS.HandshakeComplete))
	io.WriteString(w, "hello")
})

func start(t *testing.T, cfg ServerConfig) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Handler == nil {
		cfg.Handler = hello
	}
	srv, err := Start(ctx, cfg, discard())
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-srv.Done())
	})
	return srv.Addr().String()
}

// rawExchange sends raw bytes on a new connection and reads the one response.
func rawExchange(t *testing.T, addr, raw string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, raw)
	require.NoError(t, err)
	return readResponse(t, bufio.NewReader(c))
}

func readResponse(t *testing.T, br *bufio.Reader) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

func bodyOf(t *testing.T, resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestLimitsValidate(t *testing.T) {
	require.NoError(t, Limits{}.Validate(), "zero fields are the defaults")
	require.NoError(t, DefaultLimits().Validate())
	require.ErrorContains(t, Limits{IdleTimeout: -time.Second}.Validate(), "idle timeout")
	require.ErrorContains(t, Limits{MaxHeaderBytes: 100}.Validate(), "at least 1024")
	require.ErrorContains(t, Limits{ReadHeaderTimeout: time.Minute, ReadTimeout: time.Second}.Validate(), "longer than the read timeout")
	require.Error(t, ServerConfig{Addr: ":0"}.Validate())
	require.Error(t, ServerConfig{Addr: ":0", Handler: hello, TLS: &tls.Config{}}.Validate())
	_, err := Start(context.Background(), ServerConfig{Addr: "127.0.0.1:0", Handler: hello,
		Limits: Limits{MaxHeaderBytes: 1}}, discard())
	require.Error(t, err)
}

// TestOwnReplies sends requests that net/http refuses before any handler runs, and checks that
// each is answered by the RefuseFunc with net/http's status, on a fresh connection and on a
// kept-alive one after a served request.
func TestOwnReplies(t *testing.T) {
	f := &refusals{}
	addr := start(t, ServerConfig{Refuse: f.refuse, Limits: Limits{MaxHeaderBytes: 1 << 10}})
	cases := []struct {
		name, raw string
		status    int
		detail    string
	}{
		{"bare CR in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400, ""},
		{"escape byte in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: \x1b[31m\r\n\r\n", 400, ""},
		{"invalid header name", "GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", 400, "invalid header name"},
		{"malformed request line", "GET\r\nHost: x\r\n\r\n", 400, ""},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
		{"unsupported version", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, "unsupported protocol version"},
		{"unsupported transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, ""},
		{"unsupported expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", 417, ""},
		// Over MaxHeaderBytes plus net/http's 4 KiB of slack, plus what the buffered reader
		// may already hold of a pipelined request.
		{"header over the limit", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 12<<10) + "\r\n\r\n", 431, ""},
		{"many headers over the limit", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Many: a\r\n", 1200) + "\r\n", 431, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, keepAlive := range []bool{false, true} {
				before := len(f.list())
				raw := c.raw
				if keepAlive {
					raw = "GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + raw
				}
				conn, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				_, err = io.WriteString(conn, raw)
				require.NoError(t, err)
				br := bufio.NewReader(conn)
				if keepAlive {
					first := readResponse(t, br)
					require.Equal(t, 200, first.StatusCode)
					require.Equal(t, "hello", bodyOf(t, first))
				}
				resp := readResponse(t, br)
				conn.Close()
				require.Equal(t, c.status, resp.StatusCode, "keep-alive %v", keepAlive)
				require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				require.True(t, resp.Close, "Connection: close")
				require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
				var body map[string]string
				require.NoError(t, json.Unmarshal([]byte(bodyOf(t, resp)), &body))
				require.Equal(t, "E"+strconv.Itoa(c.status), body["error_code"])
				got := f.list()
				require.Len(t, got, before+1)
				require.Equal(t, strconv.Itoa(c.status)+" "+c.detail, got[before])
			}
		})
	}
}

// TestHandlerResponsesPassThrough checks that a handler's response is never mistaken for one of
// net/http's own replies, even when its body looks like one.
func TestHandlerResponsesPassThrough(t *testing.T) {
	const fake = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
	f := &refusals{}
	addr := start(t, ServerConfig{Refuse: f.refuse, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.(http.Flusher).Flush() // the body is written on its own
		io.WriteString(w, fake)
	})})
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	for range 3 {
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp := readResponse(t, br)
		require.Equal(t, 400, resp.StatusCode)
		require.Equal(t, fake, bodyOf(t, resp))
	}
	require.Empty(t, f.list())
}

// TestOptionsStarReachesTheHandler checks that "OPTIONS *" is answered by the handler, not by
// net/http, and that the connection goes on serving.
func TestOptionsStarReachesTheHandler(t *testing.T) {
	f := &refusals{}
	addr := start(t, ServerConfig{Refuse: f.refuse, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.RequestURI)
	})})
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	require.Equal(t, "*", readResponse(t, br).Header.Get("X-Path"))
	require.Equal(t, "/next", readResponse(t, br).Header.Get("X-Path"))
	require.Empty(t, f.list())
}

// TestNetHTTPRepliesWithoutRefuse checks that without a RefuseFunc net/http's own reply is
// sent unchanged (the ingest server).
func TestNetHTTPRepliesWithoutRefuse(t *testing.T) {
	addr := start(t, ServerConfig{Limits: Limits{MaxHeaderBytes: 1 << 10}})
	resp := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 6<<10)+"\r\n\r\n")
	require.Equal(t, 431, resp.StatusCode)
	require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
}

// TestSlowClientIsCutOff sends a request header one byte at a time, slower in total than the
// read-header timeout: the server must answer 408 (net/http's bare 400 without a RefuseFunc)
// and close the connection once the timeout has passed, long before the header is complete.
func TestSlowClientIsCutOff(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, refuse := range []bool{false, true} {
		f := &refusals{}
		cfg := ServerConfig{Limits: Limits{ReadHeaderTimeout: timeout, ReadTimeout: 10 * timeout}}
		if refuse {
			cfg.Refuse = f.refuse
		}
		addr := start(t, cfg)
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		began := time.Now()
		writeDone := make(chan struct{})
		go func() {
			defer close(writeDone)
			req := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("s", 100) + "\r\n\r\n"
			for i := range len(req) {
				if _, err := c.Write([]byte{req[i]}); err != nil {
					return
				}
				time.Sleep(timeout / 10) // the client's pace, not a synchronization
			}
		}()
		// A bounded real-time wait: the whole header would take about 13 timeouts.
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		out, err := io.ReadAll(c)
		elapsed := time.Since(began)
		require.NoError(t, err, "closed by the server, not by the test's deadline")
		// The server's clock starts at accept, which may be a little before Dial returns here.
		require.GreaterOrEqual(t, elapsed, timeout-50*time.Millisecond)
		require.Less(t, elapsed, 5*time.Second)
		resp := readResponse(t, bufio.NewReader(strings.NewReader(string(out))))
		if refuse {
			require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.Equal(t, []string{"408 "}, f.list(), "net/http's 400, answered as 408")
		} else {
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		}
		c.Close()
		<-writeDone
	}
}

// TestIdleConnectionIsClosed checks that a kept-alive connection with no next request is closed
// after the idle timeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	const idle = 300 * time.Millisecond
	addr := start(t, ServerConfig{Refuse: (&refusals{}).refuse, Limits: Limits{IdleTimeout: idle}})
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	resp := readResponse(t, br)
	require.Equal(t, 200, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Connection"), "kept alive")
	idleSince := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = br.ReadByte()
	elapsed := time.Since(idleSince)
	require.ErrorIs(t, err, io.EOF, "closed by the server")
	require.GreaterOrEqual(t, elapsed, idle-50*time.Millisecond)
	require.Less(t, elapsed, 5*time.Second)
}
