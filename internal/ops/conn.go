package ops

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Why this file exists: net/http answers some requests itself, before any handler runs. When
// reading a request fails (a malformed request line, a header with a bare CR or a control
// byte, a header block over MaxHeaderBytes, an unsupported version or transfer encoding, an
// "Expect" it does not support) conn.serve writes a plain-text reply straight to the
// connection, for example
//
//	HTTP/1.1 400 Bad Request: invalid header value\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n…
//
// and closes it; a client that sends its header more slowly than the read-header timeout gets
// such a 400 too. Such a reply has no X-Request-Id and no JSON body, unlike every other answer
// of the API. There is no hook for it, so the listener wraps each connection and recognizes
// these replies: a write that starts a response ("HTTP/1.") while no handler is answering on
// the connection can only come from net/http itself. The wrapper replaces it with the answer
// of the RefuseFunc for the same status (408 for the slow header). Validating requests before net/http reads them was
// the alternative; it would duplicate net/http's parser, and every disagreement between the
// two would be a bug, whereas this way net/http alone decides what is malformed.
//
// A handler is answering from the moment the handler wrapper (track) starts until net/http
// reports the connection idle again (ConnState), which it does only after the response is
// flushed. net/http writes its own replies only outside that span: while it reads a request.
//
// For HTTPS the wrapper must sit above TLS to see the plain text, so the listener does the TLS
// itself, and net/http sees a connection that is not a *tls.Conn. Two consequences: HTTP/2 is
// not offered (ALPN advertises http/1.1 only; the API needs nothing of HTTP/2, and a proxy in
// front may speak it to clients), and the handshake is run by ConnectionState, which net/http
// calls once per connection to fill Request.TLS, under the read-header timeout.

// listener wraps accepted connections (and, with TLS, the TLS server side of them).
type listener struct {
	net.Listener
	tls              *tls.Config
	refuse           RefuseFunc
	handshakeTimeout time.Duration
	log              *slog.Logger
}

func (l *listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &conn{Conn: nc, raw: nc, l: l}
	if l.tls == nil {
		return c, nil
	}
	// The handshake is not done here: Accept runs in the server's accept loop, and a client
	// that never finishes its handshake must hold up only its own connection.
	c.tls = tls.Server(nc, l.tls)
	c.Conn = c.tls
	return &tlsConn{conn: c}, nil
}

type connKey struct{}

// connContext puts the connection in the context of its requests, for track.
func (l *listener) connContext(ctx context.Context, nc net.Conn) context.Context {
	if c := asConn(nc); c != nil {
		return context.WithValue(ctx, connKey{}, c)
	}
	return ctx
}

// connState ends a handler's answer: net/http reports a connection idle once the response is
// flushed, and only then may it read (and refuse) the next request.
func (l *listener) connState(nc net.Conn, state http.ConnState) {
	if state == http.StateIdle {
		if c := asConn(nc); c != nil {
			c.answering.Store(false)
		}
	}
}

// track marks the connection as answering for the time a handler runs.
func (l *listener) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(*conn); ok {
			c.answering.Store(true)
		}
		h.ServeHTTP(w, r)
	})
}

func asConn(nc net.Conn) *conn {
	switch c := nc.(type) {
	case *conn:
		return c
	case *tlsConn:
		return c.conn
	}
	return nil
}

// conn is one accepted connection. net/http calls its methods from the connection's goroutine,
// except Read, which its background reader may call while a handler runs.
type conn struct {
	net.Conn           // what net/http reads and writes: raw, or tls over it
	raw      net.Conn  // the TCP connection
	tls      *tls.Conn // nil without TLS
	l        *listener
	// answering is set while a handler answers a request on the connection (see track).
	answering atomic.Bool
	// refused is set once net/http's own reply was replaced; what it writes after is dropped.
	refused atomic.Bool
	// readTimedOut is set when a read failed on a deadline: net/http then answers a request
	// whose header came too slowly with a bare 400, which is answered as 408 instead.
	readTimedOut atomic.Bool
}

// Read notes a read that ran into the read-header or read timeout.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	// A handler's end aborts net/http's background read with a deadline in the past: that is
	// no slow client, hence the answering condition.
	if err != nil && !c.answering.Load() {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.readTimedOut.Store(true)
		}
	}
	return n, err
}

// Write passes the handlers' responses through and replaces net/http's own replies.
func (c *conn) Write(p []byte) (int, error) {
	if c.answering.Load() {
		return c.Conn.Write(p)
	}
	if c.refused.Load() {
		return len(p), nil
	}
	if c.tls != nil && !c.tls.ConnectionState().HandshakeComplete {
		// net/http is replying to a request it could not read because the handshake failed;
		// there is no TLS session to write it on.
		return 0, c.handshakeFailed(c.tls.Handshake())
	}
	if c.l.refuse == nil {
		return c.Conn.Write(p)
	}
	status, detail, ok := parseOwnReply(p)
	if !ok {
		return c.Conn.Write(p)
	}
	c.refused.Store(true)
	if status == http.StatusBadRequest && c.readTimedOut.Load() {
		status, detail = http.StatusRequestTimeout, ""
	}
	if err := c.writeRefusal(c.Conn, status, detail); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite lets net/http half-close the connection after a 431, as it does on a bare TCP
// connection, so that the client reads the answer before the connection is reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *conn) writeRefusal(w net.Conn, status int, detail string) error {
	h, body := c.l.refuse(status, detail, c.raw.RemoteAddr().String())
	if h == nil {
		h = http.Header{}
	}
	h.Set("Connection", "close")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 ")
	b.WriteString(strconv.Itoa(status))
	b.WriteByte(' ')
	b.WriteString(http.StatusText(status))
	b.WriteString("\r\n")
	h.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	_, err := w.Write(b.Bytes())
	return err
}

// handshakeFailed answers a client that sent plain HTTP to the HTTPS port, on the TCP
// connection and in the service's shape, and returns err. Other handshake failures get no
// answer: there is no session to answer on.
func (c *conn) handshakeFailed(err error) error {
	var re tls.RecordHeaderError
	if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) && c.l.refuse != nil &&
		c.refused.CompareAndSwap(false, true) {
		c.writeRefusal(re.Conn, http.StatusBadRequest, "client sent an HTTP request to an HTTPS server")
		re.Conn.Close()
	}
	if err == nil {
		err = errors.New("ops: TLS handshake not complete")
	}
	return err
}

// looksLikeHTTP reports whether the first bytes of a TLS record are an HTTP method, as
// net/http's own check does.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE", "TRACE":
		return true
	}
	return false
}

// tlsConn is a conn with TLS. It is a separate type because net/http fills Request.TLS from
// any connection with a ConnectionState method, and a plain connection must not have one.
type tlsConn struct{ *conn }

// ConnectionState runs the handshake, which net/http would have run itself on a *tls.Conn,
// under the read-header timeout, then returns the session's state. net/http calls it once,
// before reading the first request. A failed handshake returns the zero state; the next read
// fails with the handshake's error and the connection is closed (see Write).
func (c *tlsConn) ConnectionState() tls.ConnectionState {
	if d := c.l.handshakeTimeout; d > 0 {
		c.tls.SetDeadline(time.Now().Add(d))
	}
	err := c.tls.Handshake()
	c.tls.SetDeadline(time.Time{})
	if err != nil {
		c.handshakeFailed(err)
		c.l.log.Debug("TLS handshake failed", "remote_addr", c.raw.RemoteAddr().String(), "err", err)
		return tls.ConnectionState{}
	}
	return c.tls.ConnectionState()
}

// parseOwnReply recognizes a reply that net/http wrote by itself, an error status, and returns
// the status and its short reason. The reason is the text after "<status text>: " on the status line, which
// net/http takes from a fixed set of its own messages; anything else is dropped, so that no
// byte a client sent can reach our answer through it.
func parseOwnReply(p []byte) (status int, detail string, ok bool) {
	line, _, found := bytes.Cut(p, []byte("\r\n"))
	if !found || len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 400 || status > 599 {
		// net/http's own replies are all refusals; anything else is left alone.
		return 0, "", false
	}
	text := http.StatusText(status)
	if rest, found := bytes.CutPrefix(line[12:], []byte(" "+text+": ")); found && plainWords(rest) {
		detail = string(rest)
	}
	return status, detail, true
}

// plainWords reports whether b is a short phrase of letters, digits and spaces.
func plainWords(b []byte) bool {
	if len(b) == 0 || len(b) > 80 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ') {
			return false
		}
	}
	return true
}
