package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/ops"
)

// httpFlags are the flags of the HTTP server: HTTPS, and the limits a public endpoint needs.
type httpFlags struct {
	tlsCert, tlsKey string
	limits          ops.Limits
	maxQueryBytes   int
	maxQueryParams  int
}

func registerHTTPFlags(fs *flag.FlagSet) *httpFlags {
	f := &httpFlags{limits: ops.DefaultLimits(), maxQueryBytes: api.DefaultMaxQueryBytes,
		maxQueryParams: api.DefaultMaxQueryParams}
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain: serve HTTPS instead of HTTP (with --tls-key; reloaded on SIGHUP)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.DurationVar(&f.limits.ReadHeaderTimeout, "http-read-header-timeout", f.limits.ReadHeaderTimeout, "time to receive a request's header (and the TLS handshake)")
	fs.DurationVar(&f.limits.ReadTimeout, "http-read-timeout", f.limits.ReadTimeout, "time to receive a whole request")
	fs.DurationVar(&f.limits.WriteTimeout, "http-write-timeout", f.limits.WriteTimeout, "time from the end of a request's header to the end of its response")
	fs.DurationVar(&f.limits.IdleTimeout, "http-idle-timeout", f.limits.IdleTimeout, "how long a keep-alive connection may wait for its next request")
	fs.IntVar(&f.limits.MaxHeaderBytes, "http-max-header-bytes", f.limits.MaxHeaderBytes, "largest request line and header (larger: 431)")
	fs.IntVar(&f.maxQueryBytes, "http-max-query-bytes", f.maxQueryBytes, "longest query string of the API (longer: 400 \"query\")")
	fs.IntVar(&f.maxQueryParams, "http-max-query-params", f.maxQueryParams, "most query parameters of the API (more: 400 \"query\")")
	return f
}

// validate checks the limits. A zero would silently mean the default in ops.Limits, so it is
// refused here: a flag given should be a flag obeyed.
func (f *httpFlags) validate() error {
	for _, d := range []struct {
		flag string
		ok   bool
	}{
		{"--http-read-header-timeout", f.limits.ReadHeaderTimeout > 0},
		{"--http-read-timeout", f.limits.ReadTimeout > 0},
		{"--http-write-timeout", f.limits.WriteTimeout > 0},
		{"--http-idle-timeout", f.limits.IdleTimeout > 0},
		{"--http-max-header-bytes", f.limits.MaxHeaderBytes > 0},
		{"--http-max-query-bytes", f.maxQueryBytes > 0},
		{"--http-max-query-params", f.maxQueryParams > 0},
	} {
		if !d.ok {
			return fmt.Errorf("%s must be positive", d.flag)
		}
	}
	if err := f.limits.Validate(); err != nil {
		return fmt.Errorf("--http-* limits: %w", err)
	}
	return nil
}

// certificates loads the certificate of --tls-cert and --tls-key, or returns nil for plain
// HTTP, the default, for a service behind a proxy that terminates TLS. A file that does not
// hold a valid certificate or key is a start-up error naming it.
func (f *httpFlags) certificates() (*ops.CertReloader, error) {
	switch {
	case f.tlsCert == "" && f.tlsKey == "":
		return nil, nil
	case f.tlsCert == "" || f.tlsKey == "":
		return nil, errors.New("--tls-cert and --tls-key go together: give both to serve HTTPS, or neither for plain HTTP")
	}
	return ops.NewCertReloader(f.tlsCert, f.tlsKey)
}

// serve starts the HTTP server of the API: HTTPS when certs is not nil, with the limits of
// the flags, and srv's answer to the requests net/http refuses by itself.
func (f *httpFlags) serve(ctx context.Context, addr string, srv *api.Server, certs *ops.CertReloader, log *slog.Logger) (*ops.Server, error) {
	cfg := ops.ServerConfig{Addr: addr, Handler: srv, Limits: f.limits, Refuse: srv.Refuse}
	if certs != nil {
		cfg.TLS = ops.TLSConfig(certs)
		cert, key := certs.Files()
		leaf := certs.Leaf()
		log.Info("serving HTTPS", "cert", cert, "key", key, "subject", leaf.Subject.String(),
			"not_after", leaf.NotAfter.UTC())
	}
	return ops.Start(ctx, cfg, log)
}

// reloader returns what SIGHUP does: re-read the credentials file (when there is one) and the
// TLS certificate (when serving HTTPS). Each is swapped in only when it loads; a broken file
// is logged and what is in force is kept, so that a mistake never takes the service down.
func reloader(store *api.Store, credPath string, certs *ops.CertReloader, log *slog.Logger) func() {
	return func() {
		if store != nil {
			if err := store.Reload(); err != nil {
				log.Error("credentials reload failed; keeping the previous credentials", "file", credPath, "err", err)
			} else {
				tokens, keys := store.Len()
				log.Info("credentials reloaded", "file", credPath, "tokens", tokens, "access_keys", keys)
			}
		}
		if certs != nil {
			cert, key := certs.Files()
			if err := certs.Reload(); err != nil {
				log.Error("TLS certificate reload failed; keeping the previous certificate", "cert", cert, "key", key, "err", err)
			} else {
				leaf := certs.Leaf()
				log.Info("TLS certificate reloaded", "cert", cert, "subject", leaf.Subject.String(),
					"serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter.UTC())
			}
		}
	}
}

// reloadOnSIGHUP calls reload on every SIGHUP until ctx is done. The handler is registered
// before it returns, so a SIGHUP sent afterwards is never lost; the calls run on a goroutine of
// their own, and done is closed when it ends.
func reloadOnSIGHUP(ctx context.Context, reload func()) (done <-chan struct{}) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload()
			}
		}
	}()
	return finished
}
