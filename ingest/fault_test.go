package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/promtest"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/internal/workload"
	"github.com/recordusage/recordusage/window"
)

// faultWorkload is the workload of the fault tests: 60 projects, out-of-order, duplicates and a
// few bad messages, ending ten minutes before end.
func faultWorkload(real bool, end time.Time) ([]workload.Message, []reference.Event) {
	n := 20_000
	if real {
		n = 100_000
	}
	return workload.Generate(workload.Options{Seed: 2, Projects: 60, Events: n, Span: 8 * time.Hour,
		End: end, MaxDelay: 20 * time.Minute, DupShare: 0.02, BadShare: 0.002})
}

// waitResults polls the results topic until it equals the reference model, and fails with the
// first differing hour otherwise.
func waitResults(t *testing.T, ctx context.Context, cfg Config, good []reference.Event) {
	t.Helper()
	waitHours(t, ctx, cfg, expected(good))
}

// waitHours waits until the results topic holds want, every hour of it and no other (zeros read
// as absent), and fails with the first difference when ctx ends first.
func waitHours(t *testing.T, ctx context.Context, cfg Config, want map[reference.SeriesHour]window.Peak) {
	t.Helper()
	var got map[reference.SeriesHour]window.Peak
	if err := waitFor(ctx, func() bool {
		got = readResults(t, ctx, cfg)
		return fmt.Sprint(got) == fmt.Sprint(want)
	}); err != nil {
		requireSameHours(t, want, got)
	}
}

// startService runs a service in-process until the returned stop is called (a clean shutdown),
// and waits until the input topic exists.
func startService(t *testing.T, ctx context.Context, cfg Config, name string) (stop func()) {
	return startServiceWith(t, ctx, cfg, name, prometheus.NewRegistry())
}

func startServiceWith(t *testing.T, ctx context.Context, cfg Config, name string, reg *prometheus.Registry) (stop func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("instance", name)
	svc, err := New(cfg, log, reg)
	require.NoError(t, err)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	require.NoError(t, waitFor(ctx, func() bool { _, err := testClient(t, cfg).WaitPartitions(ctx, cfg.Topic); return err == nil }))
	return func() {
		cancel()
		require.NoError(t, <-done)
	}
}

// TestRebalance runs two instances in one group on six partitions, stops one mid-stream, later
// starts another, and checks the final results.
func TestRebalance(t *testing.T) {
	brokers, real := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := faultWorkload(real, end)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end.Add(time.Minute))
	regs := []*prometheus.Registry{prometheus.NewRegistry(), prometheus.NewRegistry(), prometheus.NewRegistry()}
	stopA := startServiceWith(t, ctx, cfg, "a", regs[0])
	stopB := startServiceWith(t, ctx, cfg, "b", regs[1])
	third := len(msgs) / 3
	produce(t, ctx, cfg, msgs[:third])
	stopB() // its partitions move to a
	produce(t, ctx, cfg, msgs[third:2*third])
	stopC := startServiceWith(t, ctx, cfg, "c", regs[2]) // some partitions move to c
	produce(t, ctx, cfg, msgs[2*third:])
	waitResults(t, ctx, cfg, good)
	require.Equal(t, len(msgs)-len(good), countDLQ(t, ctx, cfg))
	stopA()
	stopC()
	for _, reg := range regs {
		// A member handing partitions over in a rebalance is still in its generation: its final
		// publish and checkpoint are not fenced.
		require.Zero(t, promtest.Sum(t, reg, "recordusage_fenced_total"))
	}
}

// TestProducerPause sends half of the workload, lets ingest catch up and idle while the wall
// clock runs three hours on (open recordings are extended to it), then sends the rest, hours
// older than the wall clock: nothing is dead-lettered as late and the results are exact.
func TestProducerPause(t *testing.T) {
	brokers, real := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := faultWorkload(real, end)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	half := len(msgs) / 2
	var clock atomic.Int64
	clock.Store(end.Add(time.Minute).UnixNano())
	cfg := testConfig(brokers, end)
	cfg.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	stop := startService(t, ctx, cfg, "paused")
	defer stop()
	produce(t, ctx, cfg, msgs[:half])
	// Caught up and idle: the last hours of the first half are published with their open
	// recordings extended to the wall clock.
	require.NoError(t, waitFor(ctx, func() bool { return len(readResults(t, ctx, cfg)) > 0 }))
	clock.Add(int64(3 * time.Hour))
	produce(t, ctx, cfg, msgs[half:])
	waitResults(t, ctx, cfg, good)
	require.Equal(t, len(msgs)-len(good), countDLQ(t, ctx, cfg), "only the bad messages: nothing is too late")
}

// TestBrokerRestart restarts the real broker mid-stream (scripts/kafka/kafka.sh restart, with the
// data dir of the broker CI started): ingest recovers by itself and the results are exact.
//
// The broker is shared by every package's tests, which go test runs in parallel: one that ran
// during the restart would fail for it (the secured-Kafka tests did, in CI). So the test runs
// only when RECORD_TEST_BROKER_RESTART=1, which `make test` sets for a second, separate go test
// of this test alone, after every package's tests have finished.
func TestBrokerRestart(t *testing.T) {
	if os.Getenv("RECORD_TEST_BROKER_RESTART") != "1" {
		t.Skip("restarts the shared broker: make test runs it alone afterwards (RECORD_TEST_BROKER_RESTART=1)")
	}
	brokers, real := kafkatest.Brokers(t)
	script := os.Getenv("RECORD_TEST_KAFKA_SCRIPT")
	switch {
	case (!real || script == "") && os.Getenv("CI") == "true":
		t.Fatal("CI=true but no real broker (RECORD_TEST_BROKERS) or no RECORD_TEST_KAFKA_SCRIPT: .ci/run sets both")
	case !real || script == "":
		t.Skip("needs the real broker and RECORD_TEST_KAFKA_SCRIPT (set by .ci/run)")
	}
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := faultWorkload(real, end)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end.Add(time.Minute))
	stop := startService(t, ctx, cfg, "survivor")
	defer stop()
	half := len(msgs) / 2
	produce(t, ctx, cfg, msgs[:half])
	restart := exec.CommandContext(ctx, "bash", script, "restart")
	restart.Stdout, restart.Stderr = os.Stderr, os.Stderr
	require.NoError(t, restart.Run())
	produce(t, ctx, cfg, msgs[half:])
	waitResults(t, ctx, cfg, good)
	require.Equal(t, len(msgs)-len(good), countDLQ(t, ctx, cfg))
}
