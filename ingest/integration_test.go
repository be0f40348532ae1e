package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/promtest"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/internal/workload"
	"github.com/recordusage/recordusage/results"
	"github.com/recordusage/recordusage/window"
)

// testClient returns the client of cfg's brokers and security, as the service builds it.
func testClient(t *testing.T, cfg Config) kafkax.Client {
	c, err := kafkax.NewClient(cfg.Brokers, cfg.Security)
	require.NoError(t, err)
	return c
}

// testConfig returns a config whose topics and group are unique to this test run.
func testConfig(brokers []string, now time.Time) Config {
	id := strconv.FormatUint(rand.Uint64()%1e9, 10)
	cfg := DefaultConfig()
	cfg.Brokers = brokers
	cfg.Topic, cfg.Group = "events-"+id, "group-"+id
	cfg.ResultsTopic, cfg.CheckpointTopic, cfg.DLQTopic = "hourly-"+id, "checkpoints-"+id, "dlq-"+id
	cfg.Partitions = 6
	cfg.FlushInterval, cfg.CheckpointInterval = 100*time.Millisecond, time.Second
	cfg.Now = func() time.Time { return now }
	return cfg
}

func produce(t *testing.T, ctx context.Context, cfg Config, msgs []workload.Message) {
	t.Helper()
	w := testClient(t, cfg).Writer(cfg.Topic, &kafka.Hash{})
	w.RequiredAcks, w.BatchSize, w.BatchTimeout = kafka.RequireAll, 5000, 5*time.Millisecond
	defer kafkax.CloseWriter(w)
	batch := make([]kafka.Message, 0, 5000)
	for i, m := range msgs {
		batch = append(batch, kafka.Message{Key: m.Key, Value: m.Value})
		if len(batch) == cap(batch) || i == len(msgs)-1 {
			require.NoError(t, w.WriteMessages(ctx, batch...))
			batch = batch[:0]
		}
	}
}

// readResults materializes the results topic: the latest value of every key. Every record must
// name the input topic and partition that wrote it (results.SourceHeader), the same partition for
// all of a series.
func readResults(t *testing.T, ctx context.Context, cfg Config) map[reference.SeriesHour]window.Peak {
	t.Helper()
	n, err := testClient(t, cfg).WaitPartitions(ctx, cfg.ResultsTopic)
	require.NoError(t, err)
	out := map[reference.SeriesHour]window.Peak{}
	source := map[[2]string]string{}
	for p := range n {
		require.NoError(t, testClient(t, cfg).ReadAll(ctx, cfg.ResultsTopic, p, func(m kafka.Message) error {
			r, err := results.Decode(m.Key, m.Value)
			if err != nil {
				return err
			}
			require.Len(t, m.Headers, 1, "record %s", m.Key)
			require.Equal(t, results.SourceHeader, m.Headers[0].Key)
			topic, _, ok := results.ParseSource(m.Headers[0].Value)
			require.True(t, ok && string(topic) == cfg.Topic, "source %q of record %s", m.Headers[0].Value, m.Key)
			series, from := [2]string{r.ProjectID, r.Domain}, string(m.Headers[0].Value)
			if was, ok := source[series]; ok {
				require.Equal(t, was, from, "the input partition of series %v", series)
			}
			source[series] = from
			k := reference.Key(r.ProjectID, r.Domain, r.Hour)
			if r.Peak.Count == 0 {
				delete(out, k) // a tombstone or a zero: both read as 0
			} else {
				out[k] = r.Peak
			}
			return nil
		}))
	}
	return out
}

// countDLQ returns the distinct source offsets in the dead-letter topic.
func countDLQ(t *testing.T, ctx context.Context, cfg Config) int {
	t.Helper()
	seen := map[string]bool{}
	for p := range cfg.Partitions {
		require.NoError(t, testClient(t, cfg).ReadAll(ctx, cfg.DLQTopic, p, func(m kafka.Message) error {
			var src string
			for _, h := range m.Headers {
				if h.Key == "source-partition" || h.Key == "source-offset" {
					src += h.Key + "=" + string(h.Value) + ";"
				}
			}
			seen[src] = true
			return nil
		}))
	}
	return len(seen)
}

func expected(good []reference.Event) map[reference.SeriesHour]window.Peak {
	return expectedAt(good, 1<<40) // every session is closed: the frontier does not matter
}

// expectedAt is the reference model's hours with activity through the frontier minute (an open
// session counts through it), without the zeros, which the results topic holds as absent keys.
func expectedAt(good []reference.Event, frontier int64) map[reference.SeriesHour]window.Peak {
	want := reference.Hours(good, frontier)
	for k, v := range want {
		if v.Count == 0 {
			delete(want, k)
		}
	}
	return want
}

// TestWorkloadMatchesReference produces a workload with out-of-order events, duplicates and
// bad messages, runs ingest until it has caught up, and checks the compacted results against
// the reference model hour by hour, and the dead letters.
func TestWorkloadMatchesReference(t *testing.T) {
	brokers, real := kafkatest.Brokers(t)
	n := 20_000
	if real {
		n = 100_000
	}
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := workload.Generate(workload.Options{Seed: 1, Projects: 60, Events: n, Span: 10 * time.Hour,
		End: end, MaxDelay: 30 * time.Minute, DupShare: 0.02, BadShare: 0.002})
	bad := len(msgs) - len(good)
	require.Positive(t, bad)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end.Add(time.Minute))
	reg := prometheus.NewRegistry()
	stop := startServiceWith(t, ctx, cfg, "workload", reg)
	produce(t, ctx, cfg, msgs)

	require.Greater(t, len(expected(good)), 1000, "a workload worth checking")
	waitResults(t, ctx, cfg, good)
	require.Equal(t, bad, countDLQ(t, ctx, cfg), "every bad message is dead-lettered")
	stop()
	require.Equal(t, float64(len(msgs)), promtest.Sum(t, reg, "recordusage_events_total"),
		"events in = applied + dead-lettered")
}

func requireSameHours(t *testing.T, want, got map[reference.SeriesHour]window.Peak) {
	t.Helper()
	for k, v := range want {
		require.Equal(t, v, got[k], "hour %v", k)
	}
	for k, v := range got {
		require.Equal(t, want[k], v, "hour %v", k)
	}
}

// waitFor polls cond until it holds or ctx ends. Polling a broker's state has no event to wait
// on, so this is the one place a test sleeps.
func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// badBurst returns n bad messages (an unknown event type) of ten projects, about 230 bytes each.
func badBurst(n int) []workload.Message {
	var burst []workload.Message
	for i := range n {
		p := fmt.Sprintf("project-%03d", i%10)
		burst = append(burst, workload.Message{Key: []byte(p),
			Value: []byte(`{"project_id":"` + p + `","publish_domain":"d","app":"a","stream":"s","event_type":"RECORD_PAUSED",` +
				`"event_time":"2026-11-25T07:20:40Z","event_id":"` + strings.Repeat("x", 100) + `"}`)})
	}
	return burst
}

// TestManyDeadLetters sends a burst of bad messages, larger together than the broker's batch
// limit: all are dead-lettered promptly and the good events after them still count.
func TestManyDeadLetters(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := workload.Generate(workload.Options{Seed: 4, Projects: 10, Events: 2000, Span: 4 * time.Hour,
		End: end, MaxDelay: time.Minute, BadShare: 0})
	burst := badBurst(30_000)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end.Add(time.Minute))
	stop := startService(t, ctx, cfg, "dead letters")
	defer stop()
	produce(t, ctx, cfg, append(burst, msgs...))
	waitResults(t, ctx, cfg, good)
	require.Equal(t, len(burst), countDLQ(t, ctx, cfg))
}
