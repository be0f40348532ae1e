// Package ops serves what operators need from both services: /metrics in the Prometheus text
// format, /healthz (the process is alive) and /readyz (it is ready for its job), sets up the
// JSON logger, and builds the HTTP server both commands listen with: timeouts and a header
// limit on every connection, optional HTTPS with a certificate that can be reloaded without
// dropping connections, and, for a public API, the service's own answer in place of the plain
// text net/http writes to a request it refuses before any handler sees it.
package ops

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Mux returns a ServeMux with /metrics, /healthz and /readyz; ready may be nil (always ready).
func Mux(reg *prometheus.Registry, ready func() bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ready != nil && !ready() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Serve listens on addr and serves h with the default Limits until ctx is done, then shuts
// down gracefully. The listener is opened before Serve returns its start error, so a busy port
// fails at once. It is Start for a plain-HTTP server that needs nothing else.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (<-chan error, error) {
	srv, err := Start(ctx, ServerConfig{Addr: addr, Handler: h}, log)
	if err != nil {
		return nil, err
	}
	return srv.Done(), nil
}

// Logger returns a JSON logger at the given level (debug, info, warn, error).
func Logger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// NewRegistry returns a registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return reg
}
