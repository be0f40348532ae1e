// Command ingest is the stream processor: it consumes recording events from Kafka and publishes
// hourly peaks of concurrent recordings (see README.md and docs/operations.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/recordusage/recordusage/ingest"
	"github.com/recordusage/recordusage/internal/cli"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/ops"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := ingest.DefaultConfig()
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	brokers := fs.String("brokers", "", "Kafka bootstrap brokers, comma-separated; empty runs an in-memory broker on "+embeddedAddr+" (trial use only)")
	kafkaSecurity := cli.RegisterKafkaSecurity(fs)
	fs.StringVar(&cfg.Topic, "topic", cfg.Topic, "input topic of recording events")
	fs.StringVar(&cfg.Group, "group", cfg.Group, "consumer group")
	fs.StringVar(&cfg.ResultsTopic, "results-topic", cfg.ResultsTopic, "compacted topic of hourly results")
	fs.StringVar(&cfg.CheckpointTopic, "checkpoint-topic", cfg.CheckpointTopic, "compacted topic of engine checkpoints")
	fs.StringVar(&cfg.DLQTopic, "dlq-topic", cfg.DLQTopic, "dead-letter topic for rejected messages")
	fs.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the input, checkpoint and dead-letter topics when they are created")
	fs.IntVar(&cfg.ResultsPartitions, "results-partitions", cfg.ResultsPartitions, "partitions of the results topic when it is created")
	fs.IntVar(&cfg.ReplicationFactor, "replication-factor", cfg.ReplicationFactor, "replication factor of created topics")
	fs.DurationVar(&cfg.DLQRetention, "dlq-retention", cfg.DLQRetention, "retention of the dead-letter topic when it is created")
	fs.DurationVar(&cfg.Engine.Lateness, "lateness", cfg.Engine.Lateness, "allowed lateness: the watermark is the largest event time minus this")
	fs.DurationVar(&cfg.Engine.CorrectionHorizon, "correction-horizon", cfg.Engine.CorrectionHorizon, "how far behind the watermark events are still applied")
	fs.DurationVar(&cfg.Engine.MaxClockSkew, "max-clock-skew", cfg.Engine.MaxClockSkew, "how far ahead of the wall clock an event time may be")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", cfg.FlushInterval, "how often results are published")
	fs.DurationVar(&cfg.BacklogFlushInterval, "backlog-flush-interval", cfg.BacklogFlushInterval, "how often results are published while a partition reads a backlog (at once when it reaches the end)")
	fs.DurationVar(&cfg.CheckpointInterval, "checkpoint-interval", cfg.CheckpointInterval, "how often each partition is checkpointed and committed")
	fs.DurationVar(&cfg.SessionTimeout, "session-timeout", cfg.SessionTimeout, "consumer-group session: a member silent this long is expelled and its partitions move")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", cfg.HeartbeatInterval, "consumer-group heartbeat; at most a third of --session-timeout")
	fs.DurationVar(&cfg.RebalanceTimeout, "rebalance-timeout", cfg.RebalanceTimeout, "how long a rebalance waits for members to rejoin")
	httpAddr := fs.String("http", "127.0.0.1:9100", "address of /metrics, /healthz and /readyz")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	gcPercent := fs.Int("gc-percent", ingest.DefaultGCPercent, "garbage-collection target as in GOGC, which wins when set; "+
		"ingest's garbage is short-lived message buffers, so a target above Go's 100 saves CPU for memory")
	memoryLimit := fs.Int64("memory-limit-mib", 0, "soft memory limit in MiB as in GOMEMLIMIT, which wins when set; "+
		"0: 90% of the cgroup's memory limit when there is one, else none")
	if err := cli.ParseWithEnv(fs, args); err != nil {
		return err
	}
	if *gcPercent < 1 || *memoryLimit < 0 {
		return fmt.Errorf("--gc-percent (%d) must be at least 1 and --memory-limit-mib (%d) not negative; "+
			"GOGC=off turns the collector off", *gcPercent, *memoryLimit)
	}
	log, err := ops.Logger(*logLevel)
	if err != nil {
		return err
	}
	gc := ops.TuneGC(*gcPercent, *memoryLimit)
	log.Debug("garbage collection", "gc_percent", gc.Percent, "memory_limit_bytes", gc.Limit, "note", "-1: as the runtime has it")
	if cfg.Security, err = kafkaSecurity.Load(log); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg.Brokers = cli.Split(*brokers)
	if len(cfg.Brokers) == 0 && cfg.Security != (kafkax.Security{}) {
		return errors.New("the --kafka-tls and --kafka-sasl-* flags need --brokers: the in-memory broker is plaintext")
	}
	if len(cfg.Brokers) == 0 {
		emb, err := kafkax.StartEmbedded(embeddedAddr)
		if err != nil {
			return err
		}
		defer emb.Close()
		log.Warn("no --brokers: running an in-memory Kafka broker for trial use; all data is lost when ingest stops",
			"addr", emb.Addr)
		cfg.Brokers = []string{emb.Addr}
	}
	reg := ops.NewRegistry()
	svc, err := ingest.New(cfg, log, reg)
	if err != nil {
		return err
	}
	httpDone, err := ops.Serve(ctx, *httpAddr, ops.Mux(reg, svc.Ready), log)
	if err != nil {
		return err
	}
	start := time.Now()
	err = svc.Run(ctx)
	log.Info("ingest stopped", "uptime", time.Since(start).Round(time.Second).String(), "err", err)
	stop()
	<-httpDone
	return err
}

const embeddedAddr = "127.0.0.1:9092"
