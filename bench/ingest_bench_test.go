package bench

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/ingest"
	"github.com/recordusage/recordusage/internal/cli"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/workload"
)

// BenchmarkIngestThroughput measures how fast ingest consumes a backlog through the real broker:
// b.N events are produced first (not timed), then ingest starts and the time until it has read
// them all is measured. A consumption rate above the production rate means lag does not grow.
//
//	RECORD_TEST_BROKERS=127.0.0.1:19092 go test -run='^$' -bench=IngestThroughput -benchtime=1000000x ./bench/
func BenchmarkIngestThroughput(b *testing.B) {
	brokers := cli.Split(os.Getenv("RECORD_TEST_BROKERS"))
	if len(brokers) == 0 {
		b.Skip("needs RECORD_TEST_BROKERS")
	}
	ctx := context.Background()
	id := strconv.FormatUint(rand.Uint64()%1e9, 10)
	cfg := ingest.DefaultConfig()
	cfg.Brokers = brokers
	cfg.Topic, cfg.Group = "bench-events-"+id, "bench-group-"+id
	cfg.ResultsTopic, cfg.CheckpointTopic, cfg.DLQTopic = "bench-hourly-"+id, "bench-ckpt-"+id, "bench-dlq-"+id
	end := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	msgs, _ := workload.Generate(workload.Options{Seed: 7, Projects: 500, Events: b.N, Span: 12 * time.Hour,
		End: end, MaxDelay: 10 * time.Minute, DupShare: 0.01})
	if err := kafkax.Plain(brokers...).EnsureTopics(ctx, kafkax.TopicSpec{Name: cfg.Topic, Partitions: cfg.Partitions,
		ReplicationFactor: 1}); err != nil {
		b.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: cfg.Topic, Balancer: &kafka.Hash{},
		Transport: &kafka.Transport{}, BatchSize: 5_000, BatchTimeout: 10 * time.Millisecond}
	batch := make([]kafka.Message, 0, 50_000)
	for i, m := range msgs {
		batch = append(batch, kafka.Message{Key: m.Key, Value: m.Value})
		if len(batch) == cap(batch) || i == len(msgs)-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	kafkax.CloseWriter(w)

	reg := prometheus.NewRegistry()
	svc, err := ingest.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), reg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	for n := eventsIn(reg); n < float64(len(msgs)); n = eventsIn(reg) {
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("ingest read %v of %d messages in 5 minutes", n, len(msgs))
		}
		time.Sleep(50 * time.Millisecond) // polling a counter; the measurement's resolution
	}
	elapsed := b.Elapsed()
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(msgs))/elapsed.Seconds(), "events/s")
}

func eventsIn(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "recordusage_events_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
