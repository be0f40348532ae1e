// Command query is the query service: it materializes the hourly results that ingest publishes
// and serves GET /v2/{project_id}/stats/record in the shape of Huawei Cloud Live's
// ListRecordData (CONTRACT.md §5, §6; see docs/api.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/cli"
	"github.com/recordusage/recordusage/internal/ops"
	"github.com/recordusage/recordusage/query"
	"github.com/recordusage/recordusage/web"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "query:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := query.DefaultConfig()
	limits := api.DefaultLimits()
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	kafkaSecurity := cli.RegisterKafkaSecurity(fs)
	fs.StringVar(&cfg.Topic, "results-topic", cfg.Topic, "compacted topic of hourly results (written by ingest)")
	httpAddr := fs.String("http", "127.0.0.1:8080", "address of the API, /openapi.yaml, /metrics, /healthz and /readyz")
	credentials := fs.String("credentials", "", "JSON file of tokens and access keys (reloaded on SIGHUP)")
	insecure := fs.Bool("insecure-no-auth", false, "serve every project without authentication (development only)")
	fs.Var((*days)(&limits.MaxSpan), "max-span", "largest span between the start and end hour of a query (Go duration, or days as 31d)")
	fs.Var((*days)(&limits.MaxLookback), "max-lookback", "how far back from now a query may start (Go duration, or days as 90d)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	httpf := registerHTTPFlags(fs)
	if err := cli.ParseWithEnv(fs, args); err != nil {
		return err
	}
	log, err := ops.Logger(*logLevel)
	if err != nil {
		return err
	}
	if cfg.Security, err = kafkaSecurity.Load(log); err != nil {
		return err
	}
	if limits.MaxSpan < time.Hour || limits.MaxLookback < time.Hour {
		return fmt.Errorf("--max-span (%v) and --max-lookback (%v) must be at least 1h", limits.MaxSpan, limits.MaxLookback)
	}
	if err := httpf.validate(); err != nil {
		return err
	}
	cfg.Brokers = cli.Split(*brokers)
	// Keep what a query can reach, plus a day.
	cfg.Retain = max(cfg.Retain, limits.MaxLookback+24*time.Hour)

	auth, store, err := authenticator(*credentials, *insecure, log)
	if err != nil {
		return err
	}
	certs, err := httpf.certificates()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if store != nil || certs != nil {
		reloadOnSIGHUP(ctx, reloader(store, *credentials, certs, log))
	}

	reg := ops.NewRegistry()
	peaks := query.NewStore()
	mt, err := query.NewMaterializer(cfg, peaks, log, reg)
	if err != nil {
		return err
	}
	srv, err := api.NewServer(api.ServerConfig{Auth: auth, Source: peaks, Ready: mt.Ready, Limits: limits,
		MaxQueryBytes: httpf.maxQueryBytes, MaxQueryParams: httpf.maxQueryParams,
		Ops: ops.Mux(reg, mt.Ready), Pages: web.Handler(), Log: log, Registerer: reg})
	if err != nil {
		return err
	}
	httpSrv, err := httpf.serve(ctx, *httpAddr, srv, certs, log)
	if err != nil {
		return err
	}
	start := time.Now()
	err = mt.Run(ctx)
	if err != nil {
		log.Error("materializer stopped", "err", err)
	}
	// SIGTERM: stop accepting, let requests in flight finish (ops.Serve shuts down on ctx).
	stop()
	<-httpSrv.Done()
	log.Info("query stopped", "uptime", time.Since(start).Round(time.Second).String())
	return err
}

// authenticator returns the request authenticator, and the credential store to reload on
// SIGHUP (nil in insecure mode).
func authenticator(path string, insecure bool, log *slog.Logger) (*api.Authenticator, *api.Store, error) {
	switch {
	case path != "" && insecure:
		return nil, nil, errors.New("--credentials and --insecure-no-auth exclude each other")
	case insecure:
		log.Warn("--insecure-no-auth: every request is served for every project WITHOUT authentication; never expose this port")
		return api.NewInsecureAuthenticator(), nil, nil
	case path == "":
		return nil, nil, errors.New("no --credentials file: refusing to start without authentication (use --insecure-no-auth for local development)")
	}
	store, err := api.NewStore(path)
	if err != nil {
		return nil, nil, err
	}
	tokens, keys := store.Len()
	log.Info("credentials loaded", "file", path, "tokens", tokens, "access_keys", keys)
	return api.NewAuthenticator(store, nil), store, nil
}

// days is a time.Duration flag that also accepts whole days ("31d"), the unit the contract
// speaks in.
type days time.Duration

func (d *days) String() string {
	if d == nil {
		return ""
	}
	if v := time.Duration(*d); v > 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return time.Duration(*d).String()
}

func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return fmt.Errorf("%q: want a Go duration (744h) or whole days (31d)", s)
		}
		*d = days(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want a Go duration (744h) or whole days (31d)", s)
	}
	*d = days(v)
	return nil
}
