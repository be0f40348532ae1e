// Command freshness runs bench/freshness: produce → value visible at the query API, p50 and
// p99, with ingest and query caught up under the load generator's live load, and the churn of
// the results topic under that load (make freshness).
//
//	go run ./bench/cmd/freshness --brokers 127.0.0.1:19092
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/recordusage/recordusage/bench/freshness"
	"github.com/recordusage/recordusage/internal/cli"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "freshness:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := freshness.DefaultConfig()
	fs := flag.NewFlagSet("freshness", flag.ContinueOnError)
	brokers := fs.String("brokers", "127.0.0.1:19092", "Kafka bootstrap brokers, comma-separated")
	fs.IntVar(&cfg.Samples, "samples", cfg.Samples, "fresh starts to measure")
	fs.DurationVar(&cfg.Gap, "gap", cfg.Gap, "mean pause between samples")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "live load before measuring")
	fs.IntVar(&cfg.Load.Channels, "channels", cfg.Load.Channels, "channels of the live load (bench/loadgen)")
	fs.IntVar(&cfg.Load.Projects, "projects", cfg.Load.Projects, "projects of the live load")
	if err := cli.ParseWithEnv(fs, args); err != nil {
		return err
	}
	cfg.Brokers = cli.Split(*brokers)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := freshness.Run(ctx, cfg, log, func(s string) { fmt.Fprintln(os.Stderr, s) })
	if err != nil {
		return err
	}
	fmt.Println(rep.Summary())
	return nil
}
