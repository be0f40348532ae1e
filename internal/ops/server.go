package ops

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Default values of Limits. They suit an API whose requests are a few hundred bytes and whose
// answers take microseconds; what they bound is how long and how much a client, slow or
// hostile, can hold of the server.
const (
	// DefaultReadHeaderTimeout bounds the time to receive a request's header (and, with TLS,
	// the handshake).
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the time to receive a whole request, body included.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds the time from the end of the request header to the last byte
	// of the response.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout is how long a keep-alive connection may wait for its next request.
	// It is longer than the idle timeout of the usual load balancers (60 s), so that the
	// proxy, not the server, closes an idle pooled connection and never races a request.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds the request line and header fields. 32 KiB holds any
	// credential the API accepts many times over, and even a Huawei IAM token (about 10 KiB)
	// sent by habit.
	DefaultMaxHeaderBytes = 32 << 10
)

// Limits bound what one connection can hold of the server. A zero field means its default:
// a public endpoint never runs without them.
type Limits struct {
	// ReadHeaderTimeout bounds the time to read a request's header, from its first byte (or,
	// on a kept-alive connection, from the end of the idle wait); default 10s. With TLS it
	// also bounds the handshake. A client slower than this is disconnected without an answer.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to read a whole request, body included; default 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request header to the end of the
	// response; default 30s.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its next request before it
	// is closed; default 2m.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and header fields; default 32 KiB. A larger
	// header is answered 431. net/http reads up to 4 KiB beyond it before deciding, so the
	// limit is exact only to within that slack.
	MaxHeaderBytes int
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

// Validate reports a negative limit, a header limit under 1 KiB (too small for a signed
// request), or a header timeout longer than the whole-request timeout (it would never fire).
func (l Limits) Validate() error {
	l = l.withDefaults()
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read-header timeout", l.ReadHeaderTimeout}, {"read timeout", l.ReadTimeout},
		{"write timeout", l.WriteTimeout}, {"idle timeout", l.IdleTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("http %s %v is negative", d.name, d.v)
		}
	}
	if l.MaxHeaderBytes < 1<<10 {
		return fmt.Errorf("http max header bytes %d: want at least 1024", l.MaxHeaderBytes)
	}
	if l.ReadHeaderTimeout > l.ReadTimeout {
		return fmt.Errorf("http read-header timeout %v is longer than the read timeout %v", l.ReadHeaderTimeout, l.ReadTimeout)
	}
	return nil
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return l
}

// RefuseFunc builds the answer to a request that net/http refused before any handler saw it:
// a malformed request line, a header with an invalid name or value (a bare CR, a control
// byte), a header block over MaxHeaderBytes, an unsupported protocol version or transfer
// encoding, or plain HTTP sent to the HTTPS port. status is the status net/http chose (400,
// 431, 501, 505…) and detail its short reason when it gave one ("invalid header value"); it
// never holds bytes of the request. A request whose header did not arrive within the
// read-header timeout, which net/http answers with a bare 400, is refused with 408. The returned header and body are sent with that status;
// the connection is then closed. It may log and count the refusal, and is called from the
// connection's goroutine.
type RefuseFunc func(status int, detail, remoteAddr string) (http.Header, []byte)

// ServerConfig configures Start.
type ServerConfig struct {
	// Addr is the TCP address to listen on (required); port 0 picks a free one (see
	// Server.Addr).
	Addr string
	// Handler serves the requests (required).
	Handler http.Handler
	// TLS, when non-nil, makes the server speak HTTPS only (see TLSConfig). Nil is plain HTTP,
	// for a service behind a proxy that terminates TLS.
	TLS *tls.Config
	// Limits are the timeouts and the header limit (zero fields: the defaults).
	Limits Limits
	// Refuse, when non-nil, answers the requests net/http refuses by itself, in place of its
	// plain-text reply. Nil keeps net/http's reply.
	Refuse RefuseFunc
	// ShutdownTimeout bounds the graceful shutdown once the context is done: requests in
	// flight get this long to finish (default 5s).
	ShutdownTimeout time.Duration
}

// Validate checks the required fields and the limits.
func (c ServerConfig) Validate() error {
	if c.Addr == "" || c.Handler == nil {
		return errors.New("ops: a server needs an address and a handler")
	}
	if c.TLS != nil && c.TLS.GetCertificate == nil && len(c.TLS.Certificates) == 0 {
		return errors.New("ops: a TLS server needs a certificate")
	}
	return c.Limits.Validate()
}

// Server is a running HTTP server.
type Server struct {
	addr net.Addr
	done chan error
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.addr }

// Done receives the result of serving, nil after a graceful shutdown, once the server has
// stopped.
func (s *Server) Done() <-chan error { return s.done }

// Start listens on cfg.Addr and serves until ctx is done, then shuts down gracefully: it stops
// accepting, closes idle connections and lets requests in flight finish for at most
// cfg.ShutdownTimeout. The listener is open when Start returns, so a busy port fails at once.
func Start(ctx context.Context, cfg ServerConfig, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lim := cfg.Limits.withDefaults()
	tcp, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		// "OPTIONS *" would otherwise be answered by net/http itself, without X-Request-Id and
		// without passing the handler; the handler answers it like any other path.
		DisableGeneralOptionsHandler: true,
		// net/http's own complaints (a panic it recovered, an accept error) go to our log.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	var ln net.Listener = tcp
	if cfg.TLS != nil || cfg.Refuse != nil {
		// TLS is done by the wrapping listener rather than by net/http, because the wrapper
		// must see the plain text net/http writes; see conn.go.
		wl := &listener{Listener: tcp, tls: cfg.TLS, refuse: cfg.Refuse,
			handshakeTimeout: lim.ReadHeaderTimeout, log: log}
		ln = wl
		srv.Handler = wl.track(cfg.Handler)
		srv.ConnContext = wl.connContext
		srv.ConnState = wl.connState
	}
	s := &Server{addr: tcp.Addr(), done: make(chan error, 1)}
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	shutdown := cfg.ShutdownTimeout
	if shutdown <= 0 {
		shutdown = 5 * time.Second
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdown)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	log.Info("http listening", "addr", tcp.Addr().String(), "scheme", scheme,
		"read_header_timeout", lim.ReadHeaderTimeout.String(), "read_timeout", lim.ReadTimeout.String(),
		"write_timeout", lim.WriteTimeout.String(), "idle_timeout", lim.IdleTimeout.String(),
		"max_header_bytes", lim.MaxHeaderBytes)
	return s, nil
}
