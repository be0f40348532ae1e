package ingest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/promtest"
	"github.com/recordusage/recordusage/internal/workload"
)

// TestZombieWritesNothing makes an instance a zombie, as a long pause or a network partition
// does. Instance A owns the partition and has read half the workload; its partition loop is held
// at some point, and B joins the group. A's generation ends, but its loop, held, cannot return,
// so A cannot rejoin and the group expels it after the rebalance timeout. B takes the partition
// over (restoring A's last checkpoint, which is not clean, so it recovers), reads the rest,
// publishes and checkpoints. Then A's loop goes on, as a paused process does. It must see that it
// was fenced and write nothing: no result (not even one it still held) and no checkpoint, above
// all not its clean final one at its old offset, which would replace B's and let the next owner
// skip the recovery that B's publications need (and could overwrite the chunks B's manifest
// names). The checkpoint is still B's afterwards, A counted the fence, and every hour is exact.
//
// A is held at the two places where a resumed zombie writes: before a periodic checkpoint (paused
// while it owned the partition), and before its final publish and checkpoint (paused as its
// generation ended); there it is also asked whether a flush may publish after such a pause.
func TestZombieWritesNothing(t *testing.T) {
	for _, at := range []string{"checkpoint", "finish"} {
		t.Run("held at "+at, func(t *testing.T) { testZombie(t, at) })
	}
}

func testZombie(t *testing.T, holdAt string) {
	brokers, _ := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := workload.Generate(workload.Options{Seed: 5, Projects: 8, Events: 3000, Span: 4 * time.Hour,
		End: end, MaxDelay: 10 * time.Minute, DupShare: 0.02, BadShare: 0.002})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end.Add(time.Minute))
	cfg.Partitions = 1
	cfg.SessionTimeout, cfg.HeartbeatInterval, cfg.RebalanceTimeout = 6*time.Second, time.Second, 2*time.Second
	half := len(msgs) / 2

	var armed, published atomic.Bool
	held, resume := make(chan struct{}), make(chan struct{})
	sentinel := []byte("zombie-sentinel")
	zombie := cfg
	zombie.hook = func(pl *partitionLoop, at string) {
		if at != holdAt || !armed.CompareAndSwap(true, false) {
			return
		}
		held <- struct{}{}
		<-resume
		// The pause was long: the group has not confirmed A's ownership since. A flush now
		// must ask, and not publish.
		pl.ownedAt = time.Time{}
		published.Store(pl.mayPublish())
		// A result still to publish when the zombie goes on, as a paused loop may hold.
		pl.out = append(pl.out, kafka.Message{Key: sentinel, Value: sentinel})
	}
	regA := prometheus.NewRegistry()
	stopA := startServiceWith(t, ctx, zombie, "zombie", regA)
	produce(t, ctx, cfg, msgs[:half])
	require.NoError(t, waitFor(ctx, func() bool { return promtest.Sum(t, regA, "recordusage_events_total") == float64(half) }))
	armed.Store(true)
	if holdAt == "checkpoint" {
		<-held // A pauses while it owns the partition
	}
	regB := prometheus.NewRegistry()
	stopB := startServiceWith(t, ctx, cfg, "successor", regB)
	if holdAt == "finish" {
		<-held // A's generation ended: it pauses before its final publish
	}
	produce(t, ctx, cfg, msgs[half:])
	waitResults(t, ctx, cfg, good) // B was given the partition and caught up
	latest := func() manifest {
		ck := &checkpointer{kafka: kafkax.Plain(cfg.Brokers...), topic: cfg.CheckpointTopic, input: cfg.Topic}
		_, _, ok, err := ck.load(ctx, 1)
		require.NoError(t, err)
		require.True(t, ok)
		return ck.last
	}
	var owners manifest
	require.NoError(t, waitFor(ctx, func() bool { owners = latest(); return owners.NextOffset == int64(len(msgs)) }),
		"B checkpoints what it read")

	close(resume) // A goes on, a zombie
	require.NoError(t, waitFor(ctx, func() bool { return promtest.Sum(t, regA, "recordusage_fenced_total") > 0 }),
		"A sees that it was fenced")
	stopA() // A's loop has ended: it wrote what it was going to write
	require.False(t, published.Load(), "a flush of the zombie after its pause may not publish")
	require.Equal(t, owners, latest(), "the checkpoint is still B's, not one of the zombie at its old offset")
	require.False(t, owners.Clean)
	for p := range cfg.ResultsPartitions {
		require.NoError(t, testClient(t, cfg).ReadAll(ctx, cfg.ResultsTopic, p, func(m kafka.Message) error {
			require.NotEqual(t, string(sentinel), string(m.Key), "the zombie published")
			return nil
		}))
	}
	stopB()
	waitResults(t, ctx, cfg, good)
	// An owner that stops is not fenced: its last checkpoint is clean, at its offset.
	require.Zero(t, promtest.Sum(t, regB, "recordusage_fenced_total"))
	last := latest()
	require.True(t, last.Clean, "the owner's final checkpoint is clean")
	require.Equal(t, int64(len(msgs)), last.NextOffset)
}
