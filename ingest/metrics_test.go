package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/promtest"
	"github.com/recordusage/recordusage/internal/workload"
)

// TestPartitionHealthMetrics checks the per-partition gauges an operator alerts on: a partition
// that never received a message has no lag (it used to report 2, from kafka-go's FirstOffset),
// and once events are read the watermark, its lag behind the wall clock, and the recordings and
// series held are reported.
func TestPartitionHealthMetrics(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end.Add(time.Minute))
	reg := prometheus.NewRegistry()
	stop := startServiceWith(t, ctx, cfg, "metrics", reg)
	defer stop()
	require.NoError(t, waitFor(ctx, func() bool {
		return len(promtest.ByLabel(t, reg, "recordusage_partition_lag_messages", "partition")) == cfg.Partitions
	}))
	for p, lag := range promtest.ByLabel(t, reg, "recordusage_partition_lag_messages", "partition") {
		require.Zero(t, lag, "partition %s never received a message", p)
	}

	msgs, good := workload.Generate(workload.Options{Seed: 5, Projects: 1, Events: 200, Span: time.Hour,
		End: end, MaxDelay: time.Minute})
	produce(t, ctx, cfg, msgs)
	waitResults(t, ctx, cfg, good)
	// Only the partition of the one project has a watermark; the others have seen no event.
	require.NoError(t, waitFor(ctx, func() bool {
		return len(promtest.ByLabel(t, reg, "recordusage_partition_watermark_seconds", "partition")) == 1
	}))
	for p, wm := range promtest.ByLabel(t, reg, "recordusage_partition_watermark_seconds", "partition") {
		want := end.Add(-cfg.Engine.Lateness) // the workload ends with an event at end
		require.Equal(t, float64(want.Unix()), wm, "partition %s", p)
		require.Equal(t, (time.Minute + cfg.Engine.Lateness).Seconds(), promtest.ByLabel(t, reg, "recordusage_partition_watermark_lag_seconds", "partition")[p])
		require.Positive(t, promtest.ByLabel(t, reg, "recordusage_partition_recordings", "partition")[p])
		require.Positive(t, promtest.ByLabel(t, reg, "recordusage_partition_series", "partition")[p])
	}
}
