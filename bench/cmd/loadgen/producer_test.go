package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
)

// backfill runs the load generator for an hour of events of 40 projects into a new topic of the
// given partitions, with extra flags, and calls fn for every message written, read back with
// another client than ours (franz-go).
func backfill(t *testing.T, partitions int, fn func(*kgo.Record), extra ...string) {
	t.Helper()
	brokers, _ := kafkatest.Brokers(t)
	c := kafkax.Plain(brokers...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := "loadgen-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	require.NoError(t, c.EnsureTopics(ctx, kafkax.TopicSpec{Name: topic, Partitions: partitions, ReplicationFactor: 1}))
	args := append([]string{"--brokers", strings.Join(brokers, ","), "--topic", topic, "--from", "1h",
		"--projects", "40", "--channels", "200", "--bad-share", "0", "--quiet"}, extra...)
	require.NoError(t, run(ctx, args, io.Discard, io.Discard))

	sent, offsets := int64(0), map[int32]kgo.Offset{}
	for p := range partitions {
		_, next, err := c.Offsets(ctx, topic, p)
		require.NoError(t, err)
		sent += next
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	require.Positive(t, sent)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	require.NoError(t, err)
	defer cl.Close()
	for read := int64(0); read < sent; {
		fs := cl.PollFetches(ctx)
		require.NoError(t, fs.Err())
		fs.EachRecord(func(r *kgo.Record) {
			read++
			fn(r)
		})
	}
}

// TestCompressedBackfill backfills with each --compression codec: every batch has the codec asked
// for, and every message is one the decoder reads.
func TestCompressedBackfill(t *testing.T) {
	for name, want := range map[string]uint8{"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4} {
		t.Run(name, func(t *testing.T) {
			var d event.Decoder
			var ev event.Event
			backfill(t, 1, func(r *kgo.Record) {
				require.Equal(t, want, r.Attrs.CompressionType(), "codec of offset %d", r.Offset)
				require.NoError(t, d.Decode(r.Key, r.Value, &ev), "offset %d", r.Offset)
			}, "--compression", name)
		})
	}
}

// TestPartitioners backfills with each --partitioner into four partitions and checks every
// message's partition against the partitioner it names (kafka-go's balancers, which place keys
// as the Java client, librdkafka and Sarama do).
func TestPartitioners(t *testing.T) {
	for name, b := range map[string]kafka.Balancer{"murmur2": kafka.Murmur2Balancer{}, "crc32": kafka.CRC32Balancer{}, "fnv1a": &kafka.Hash{}} {
		t.Run(name, func(t *testing.T) {
			used := map[int32]bool{}
			backfill(t, 4, func(r *kgo.Record) {
				used[r.Partition] = true
				require.Equal(t, int(r.Partition), b.Balance(kafka.Message{Key: r.Key}, 0, 1, 2, 3), "key %s", r.Key)
			}, "--partitioner", name)
			require.Len(t, used, 4, "40 projects reach every partition")
		})
	}
}
