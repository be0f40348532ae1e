package ingest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
)

// TestCheckpointRoundTrip writes checkpoints of several sizes (one chunk, many chunks, then a
// smaller one over a bigger one) to a real topic and reads each back exactly.
func TestCheckpointRoundTrip(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, time.Now())
	require.NoError(t, kafkax.Plain(brokers...).EnsureTopics(ctx, kafkax.TopicSpec{Name: cfg.CheckpointTopic, Partitions: 2,
		ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact", "max.message.bytes": "2097152"}}))
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: cfg.CheckpointTopic, Balancer: kafka.BalancerFunc(partitionOfKey),
		Transport: &kafka.Transport{}, RequiredAcks: kafka.RequireAll, BatchBytes: chunkBatchBytes, BatchTimeout: time.Millisecond}
	defer kafkax.CloseWriter(w)
	r := rand.New(rand.NewPCG(1, 2))
	for i, size := range []int{10, 3*chunkSize + 17, chunkSize, 0, 5 * chunkSize} {
		snap := make([]byte, size)
		for j := range snap {
			snap[j] = byte(r.Uint32())
		}
		writer := &checkpointer{kafka: kafkax.Plain(brokers...), topic: cfg.CheckpointTopic, input: "in", partition: 3, writer: w}
		_, _, _, err := writer.load(ctx, 2) // learn the slots, as a partition loop does
		require.NoError(t, err)
		clean := i%2 == 0
		require.NoError(t, writer.save(ctx, snap, int64(100+i), clean))

		reader := &checkpointer{kafka: kafkax.Plain(brokers...), topic: cfg.CheckpointTopic, input: "in", partition: 3, writer: w}
		got, next, ok, err := reader.load(ctx, 2)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(100+i), next)
		require.Equal(t, snap, got, "checkpoint %d (%d bytes)", i, size)
		require.Equal(t, clean, reader.last.Clean)
		if clean {
			// A new owner marks it in use before publishing: the next one recovers.
			require.NoError(t, reader.markDirty(ctx))
			again := &checkpointer{kafka: kafkax.Plain(brokers...), topic: cfg.CheckpointTopic, input: "in", partition: 3}
			got, _, _, err := again.load(ctx, 2)
			require.NoError(t, err)
			require.Equal(t, snap, got)
			require.False(t, again.last.Clean)
		}
	}
}
