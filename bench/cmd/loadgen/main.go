// Command loadgen writes realistic recording events to Kafka (or as newline-delimited JSON to a
// file) for load tests and demonstrations: a backfill of past hours as fast as allowed, live
// events paced by the clock, or a backfill that continues live. See package bench/loadgen for
// the model. Every flag can also be set by RECORD_<FLAG> (e.g. RECORD_RATE=50000).
//
//	loadgen --mode backfill --from 24h --then-live --rate 50000
//	loadgen --mode backfill --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z --out events.ndjson
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/bench/loadgen"
	"github.com/recordusage/recordusage/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
		}
		os.Exit(2)
	}
}

// closeTimeout bounds the Kafka writer's Close, which can hang when the broker is gone.
const closeTimeout = 5 * time.Second

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := loadgen.DefaultConfig()
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", string(cfg.Mode), "backfill (event times from --from to --to, as fast as --rate allows) or live (event times = the clock)")
	fs.BoolVar(&cfg.ThenLive, "then-live", false, "after the backfill, continue live with the sessions still open")
	liveAfter := fs.Bool("live-after-backfill", false, "same as --then-live")
	from := fs.String("from", "24h", "start of the backfill: RFC 3339, or a duration back from now (at most 90 days less an hour)")
	to := fs.String("to", "", "end of the backfill: RFC 3339, or a duration back from now; empty is now")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to run live; 0 runs until Ctrl-C")
	fs.Float64Var(&cfg.Rate, "rate", 0, "most messages per second; 0 is unlimited")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed and time range give the same backfill")
	fs.IntVar(&cfg.Projects, "projects", cfg.Projects, "number of projects (tenants), of Zipf-distributed sizes")
	fs.IntVar(&cfg.Channels, "channels", cfg.Channels, "number of channels over all projects; each records in 1 or 2 formats")
	fs.Float64Var(&cfg.ZipfExponent, "zipf", cfg.ZipfExponent, "Zipf exponent of project sizes")
	fs.Float64Var(&cfg.SessionsPerDay, "sessions-per-day", cfg.SessionsPerDay, "mean sessions a channel starts per day")
	fs.DurationVar(&cfg.MedianSession, "median-session", cfg.MedianSession, "median session duration (log-normal)")
	fs.DurationVar(&cfg.MaxDelay, "max-delay", cfg.MaxDelay, "most an event's delivery is delayed (reordering); at most the correction horizon")
	fs.Float64Var(&cfg.DupShare, "dup-share", cfg.DupShare, "share of messages that are exact duplicates")
	fs.Float64Var(&cfg.BadShare, "bad-share", cfg.BadShare, "share of messages that are bad (dead-lettered by ingest)")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "messages per write to the sink")
	brokers := fs.String("brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	kafkaSecurity := cli.RegisterKafkaSecurity(fs)
	topic := fs.String("topic", "record-events", "topic of recording events")
	acks := fs.String("acks", "one", "required acks: one or all")
	compression := fs.String("compression", "none", "codec of the batches written: none, gzip, snappy, lz4 or zstd")
	partitioner := fs.String("partitioner", "murmur2", "how keys are placed in partitions, as the topic's other producers do: "+
		"murmur2 (the Java client's), crc32 (librdkafka's default) or fnv1a (Sarama's, kafka-go's Hash)")
	out := fs.String("out", "", "write newline-delimited JSON to this file (- for stdout) instead of Kafka")
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := cli.ParseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(*quiet)}))
	security, err := kafkaSecurity.Load(log)
	if err != nil {
		return err
	}
	now := time.Now()
	cfg.Mode = loadgen.Mode(*mode)
	cfg.ThenLive = cfg.ThenLive || *liveAfter
	if cfg.From, err = parseTime(*from, now); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if cfg.To, err = parseTime(*to, now); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ka := kafka.RequireOne
	switch *acks {
	case "one":
	case "all":
		ka = kafka.RequireAll
	default:
		return fmt.Errorf("--acks %q: want one or all", *acks)
	}
	var balancer kafka.Balancer
	switch *partitioner {
	case "murmur2":
		balancer = kafka.Murmur2Balancer{}
	case "crc32":
		balancer = kafka.CRC32Balancer{}
	case "fnv1a":
		balancer = &kafka.Hash{}
	default:
		return fmt.Errorf("--partitioner %q: want murmur2, crc32 or fnv1a", *partitioner)
	}
	var codec kafka.Compression
	if *compression != "none" {
		if err := codec.UnmarshalText([]byte(*compression)); err != nil {
			return fmt.Errorf("--compression %q: want none, gzip, snappy, lz4 or zstd", *compression)
		}
	}

	var sink loadgen.Sink
	var closeSink func() error
	switch *out {
	case "":
		ks, err := loadgen.NewKafkaSink(loadgen.KafkaConfig{Brokers: cli.Split(*brokers), Security: security,
			Topic: *topic, RequiredAcks: ka, BatchSize: 5000, BatchTimeout: 10 * time.Millisecond, Compression: codec, Balancer: balancer, Log: log})
		if err != nil {
			return err
		}
		if err := ks.Preflight(ctx, log); err != nil {
			return err
		}
		sink, closeSink = ks, func() error { return ks.Close(closeTimeout) }
	case "-":
		ws := loadgen.NewWriterSink(stdout)
		sink, closeSink = ws, ws.Flush
	default:
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		ws := loadgen.NewWriterSink(f)
		sink, closeSink = ws, func() error { return errors.Join(ws.Flush(), f.Close()) }
	}
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	_, err = loadgen.Run(ctx, cfg, sink, progress)
	return errors.Join(err, closeSink())
}

// logLevel is the level of the few log lines (Kafka security warnings, the broker check):
// warnings only with --quiet.
func logLevel(quiet bool) slog.Level {
	if quiet {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// parseTime reads an RFC 3339 time, or a duration back from now ("24h" and "-24h" both mean 24
// hours ago). Empty is the zero time.
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a duration such as 24h", s)
	}
	return t, nil
}
