package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/promtest"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/internal/workload"
)

// producersRun is what the tests of input from other producers share: a workload of six hours,
// out of order within 20 minutes, with duplicates and bad messages, and ingest running on it.
type producersRun struct {
	ctx  context.Context // ends with the test, or after five minutes
	cfg  Config
	reg  *prometheus.Registry
	stop func()
	msgs []workload.Message
	good []reference.Event
}

// startProducersRun generates the workload of about n good events (five times more on the real
// broker) of the given projects, and starts ingest on the given partitions of a new input topic.
func startProducersRun(t *testing.T, name string, seed uint64, projects, n, partitions int) producersRun {
	t.Helper()
	brokers, real := kafkatest.Brokers(t)
	if real {
		n *= 5
	}
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r := producersRun{reg: prometheus.NewRegistry()}
	r.msgs, r.good = workload.Generate(workload.Options{Seed: seed, Projects: projects, Events: n, Span: 6 * time.Hour,
		End: end, MaxDelay: 20 * time.Minute, DupShare: 0.02, BadShare: 0.005})
	var cancel context.CancelFunc
	r.ctx, cancel = context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	r.cfg = testConfig(brokers, end.Add(time.Minute))
	r.cfg.Partitions = partitions
	r.stop = startServiceWith(t, r.ctx, r.cfg, name, r.reg)
	return r
}

// TestCompressedInput produces the input as producers in the field do: with another client than
// ours (franz-go, whose batches are built like the Java client's) and compressed, each partition
// with another codec (gzip, snappy, lz4, zstd, and none), in batches of a few hundred messages.
// Every hour must be exact and every bad message dead-lettered: a codec that kafka-go's reader
// mis-read would lose or garble the messages of its partition.
func TestCompressedInput(t *testing.T) {
	r := startProducersRun(t, "compressed", 7, 40, 10_000, 5)
	ctx, cfg, brokers, msgs, good, reg, stop := r.ctx, r.cfg, r.cfg.Brokers, r.msgs, r.good, r.reg, r.stop
	bad := len(msgs) - len(good)

	codecs := []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(),
		kgo.ZstdCompression(), kgo.NoCompression()}
	var clients []*kgo.Client
	for p := range cfg.Partitions {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(cfg.Topic),
			kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(codecs[p]),
			kgo.ProducerLinger(time.Millisecond), kgo.RequiredAcks(kgo.AllISRAcks()))
		require.NoError(t, err)
		defer cl.Close()
		clients = append(clients, cl)
	}
	for _, m := range msgs {
		p := partitionOf(m.Key, cfg.Partitions)
		clients[p].Produce(ctx, &kgo.Record{Key: m.Key, Value: m.Value, Partition: int32(p)}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce to partition %d: %v", p, err)
			}
		})
	}
	for _, cl := range clients {
		require.NoError(t, cl.Flush(ctx))
	}

	waitResults(t, ctx, cfg, good)
	require.Equal(t, bad, countDLQ(t, ctx, cfg), "every bad message is dead-lettered")
	stop()
	require.Equal(t, float64(len(msgs)), promtest.Sum(t, reg, "recordusage_events_total"),
		"events in = applied + dead-lettered")
}

// partitionOf is the partition of a message with key among n, as our own producers place it (the
// tests' produce): all of a project's events in one partition.
func partitionOf(key []byte, n int) int {
	partitions := make([]int, n)
	for p := range partitions {
		partitions[p] = p
	}
	return (&kafka.Hash{}).Balance(kafka.Message{Key: key}, partitions...)
}

// TestTransactionalInput produces the input with a transactional producer (franz-go), as an
// exactly-once pipeline does: every few hundred messages a transaction, and every fifth one
// aborted first and sent again in the next, as such a producer retries. kafka-go's reader
// delivers the transaction markers as messages: none may be dead-lettered or counted as an event,
// and the events of the aborted transactions, which the reader delivers too, count once with
// their second sending (exact duplicates). Every hour must be exact.
func TestTransactionalInput(t *testing.T) {
	r := startProducersRun(t, "transactional", 9, 30, 6_000, 4)
	ctx, cfg, brokers, msgs, good, reg, stop := r.ctx, r.cfg, r.cfg.Brokers, r.msgs, r.good, r.reg, r.stop
	bad := len(msgs) - len(good)

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID("producer-"+cfg.Topic))
	require.NoError(t, err)
	defer cl.Close()
	send := func(chunk []workload.Message, commit bool) {
		require.NoError(t, cl.BeginTransaction())
		for _, m := range chunk {
			cl.Produce(ctx, &kgo.Record{Key: m.Key, Value: m.Value, Partition: int32(partitionOf(m.Key, cfg.Partitions))},
				func(_ *kgo.Record, err error) {
					if err != nil {
						t.Errorf("produce: %v", err)
					}
				})
		}
		require.NoError(t, cl.Flush(ctx))
		require.NoError(t, cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)))
	}
	const chunk = 400
	aborted, abortedBad := 0, 0
	for i := 0; i*chunk < len(msgs); i++ {
		c := msgs[i*chunk : min((i+1)*chunk, len(msgs))]
		if i%5 == 2 {
			send(c, false)
			aborted += len(c)
			for _, m := range c {
				if !m.Good {
					abortedBad++
				}
			}
		}
		send(c, true)
	}
	require.Positive(t, aborted)

	waitResults(t, ctx, cfg, good)
	require.Equal(t, bad+abortedBad, countDLQ(t, ctx, cfg),
		"every bad message dead-lettered (those of aborted transactions too: they were read), and no transaction marker")
	stop()
	require.Equal(t, float64(len(msgs)+aborted), promtest.Sum(t, reg, "recordusage_events_total"),
		"events in = the messages of every transaction, aborted ones included, and no marker")
	require.Positive(t, promtest.Sum(t, reg, "recordusage_transaction_markers_total"))
}
