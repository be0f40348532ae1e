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

// TestCompressedBackfill backfills an hour with each --compression codec and reads the topic back
// with another client than ours: every batch has the codec asked for, and every message is one
// the decoder reads (or one of the intended bad ones).
func TestCompressedBackfill(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	c := kafkax.Plain(brokers...)
	for name, want := range map[string]uint8{"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			topic := "loadgen-" + name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			require.NoError(t, c.EnsureTopics(ctx, kafkax.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1}))
			args := []string{"--brokers", strings.Join(brokers, ","), "--topic", topic, "--from", "1h",
				"--projects", "5", "--channels", "50", "--bad-share", "0", "--quiet", "--compression", name}
			require.NoError(t, run(ctx, args, io.Discard, io.Discard))
			_, sent, err := c.Offsets(ctx, topic, 0)
			require.NoError(t, err)
			require.Positive(t, sent)

			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
				kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
			require.NoError(t, err)
			defer cl.Close()
			var d event.Decoder
			var ev event.Event
			for read := int64(0); read < sent; {
				fs := cl.PollFetches(ctx)
				require.NoError(t, fs.Err())
				fs.EachRecord(func(r *kgo.Record) {
					read++
					require.Equal(t, want, r.Attrs.CompressionType(), "codec of offset %d", r.Offset)
					require.NoError(t, d.Decode(r.Key, r.Value, &ev), "offset %d", r.Offset)
				})
			}
		})
	}
}

// TestPartitioners backfills an hour with each --partitioner into four partitions and checks
// every message's partition against the partitioner it names (kafka-go's balancers, which match
// the Java client's, librdkafka's and Sarama's placement).
func TestPartitioners(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	c := kafkax.Plain(brokers...)
	for name, b := range map[string]kafka.Balancer{"murmur2": kafka.Murmur2Balancer{}, "crc32": kafka.CRC32Balancer{}, "fnv1a": &kafka.Hash{}} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			topic := "loadgen-" + name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			require.NoError(t, c.EnsureTopics(ctx, kafkax.TopicSpec{Name: topic, Partitions: 4, ReplicationFactor: 1}))
			args := []string{"--brokers", strings.Join(brokers, ","), "--topic", topic, "--from", "1h",
				"--projects", "40", "--channels", "200", "--quiet", "--partitioner", name}
			require.NoError(t, run(ctx, args, io.Discard, io.Discard))
			sent, offsets := int64(0), map[int32]kgo.Offset{}
			for p := range 4 {
				_, next, err := c.Offsets(ctx, topic, p)
				require.NoError(t, err)
				sent += next
				offsets[int32(p)] = kgo.NewOffset().AtStart()
			}
			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
			require.NoError(t, err)
			defer cl.Close()
			used := map[int32]bool{}
			for read := int64(0); read < sent; {
				fs := cl.PollFetches(ctx)
				require.NoError(t, fs.Err())
				fs.EachRecord(func(r *kgo.Record) {
					read++
					used[r.Partition] = true
					require.Equal(t, int(r.Partition), b.Balance(kafka.Message{Key: r.Key}, 0, 1, 2, 3), "key %s", r.Key)
				})
			}
			require.Len(t, used, 4, "40 projects reach every partition")
		})
	}
}
