package ingest

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/logbuf"
	"github.com/recordusage/recordusage/internal/workload"
)

// TestDeadLetterRecord checks what a dead letter holds (CONTRACT.md §2): the original key and
// bytes, the original headers, then the reason, the error and the source topic, partition and
// offset; one bad message of each kind that a producer can send, among good ones.
func TestDeadLetterRecord(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, now)
	cfg.Partitions = 1 // the input's offsets are the order of the messages below

	ev := func(project, typ, at string) []byte {
		return []byte(`{"project_id":"` + project + `","publish_domain":"d.example.com","app":"live","stream":"s1",` +
			`"record_format":"HLS","event_type":"` + typ + `","event_time":"` + at + `"}`)
	}
	type input struct {
		key, value []byte
		reason     string // "" for a good event
	}
	inputs := []input{
		{[]byte("p1"), ev("p1", "RECORD_START", "2026-11-25T11:00:00Z"), ""},
		{[]byte("p1"), []byte(`{"project_id":`), "not_json"},
		{[]byte("p1"), []byte(`{"project_id":"p1","publish_domain":"d","app":"a","stream":"s","event_type":"RECORD_START"}`), "missing_field"},
		{[]byte("p1"), ev("p1", "RECORD_PAUSED", "2026-11-25T11:01:00Z"), "unknown_event_type"},
		{[]byte("p2"), ev("p1", "RECORD_OVER", "2026-11-25T11:02:00Z"), "key_mismatch"},
		{[]byte("p1"), ev("p1", "RECORD_OVER", "yesterday"), "invalid_event_time"},
		{[]byte("p1"), ev("p1", "RECORD_START", "2020-01-01T00:00:00Z"), "too_old"},
		{[]byte("p1"), ev("p1", "RECORD_START", "2026-11-26T12:00:00Z"), "future_time"},
		{[]byte("p1"), ev("p1", "RECORD_OVER", "2026-11-25T11:30:00Z"), ""},
	}
	w := testClient(t, cfg).Writer(cfg.Topic, &kafka.Hash{})
	w.RequiredAcks, w.BatchSize = kafka.RequireAll, len(inputs)
	stop := startService(t, ctx, cfg, "dead letters")
	defer stop()
	var msgs []kafka.Message
	for i, in := range inputs {
		msgs = append(msgs, kafka.Message{Key: in.key, Value: in.value, Headers: []kafka.Header{
			{Key: "traceparent", Value: []byte("trace-" + strconv.Itoa(i))},
			{Key: "reason", Value: []byte("the producer's own header of this name")},
		}})
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	kafkax.CloseWriter(w)

	var bad []int
	for i, in := range inputs {
		if in.reason != "" {
			bad = append(bad, i)
		}
	}
	var dead []kafka.Message
	require.NoError(t, waitFor(ctx, func() bool {
		dead = dead[:0]
		require.NoError(t, testClient(t, cfg).ReadAll(ctx, cfg.DLQTopic, 0, func(m kafka.Message) error {
			dead = append(dead, m)
			return nil
		}))
		return len(dead) >= len(bad)
	}))
	require.Len(t, dead, len(bad), "one dead letter per bad message")
	for j, d := range dead {
		i := bad[j]
		require.Equal(t, inputs[i].key, d.Key, "key of input %d", i)
		require.Equal(t, inputs[i].value, d.Value, "bytes of input %d", i)
		require.Len(t, d.Headers, 7, "input %d: its two headers, then ours", i)
		require.Equal(t, msgs[i].Headers, d.Headers[:2], "input %d: its own headers first", i)
		ours := map[string]string{}
		for _, h := range d.Headers[2:] {
			ours[h.Key] = string(h.Value)
		}
		require.Equal(t, inputs[i].reason, ours["reason"], "input %d", i)
		require.NotEmpty(t, ours["error"], "input %d", i)
		require.Equal(t, cfg.Topic, ours["source-topic"], "input %d", i)
		require.Equal(t, "0", ours["source-partition"], "input %d", i)
		require.Equal(t, strconv.Itoa(i), ours["source-offset"], "input %d", i)
	}
}

// TestTopicsCreatedByHand runs ingest on topics created beforehand with Kafka's defaults (a 1 MiB
// max.message.bytes for results and dead letters), as an operator may create them: a burst of
// bad messages larger together than 1 MiB, and one bad message of 2 MiB (the input topic allows
// it), must not stop the partition. The burst goes out in batches the topic accepts, the big
// message is dead-lettered truncated, with its original length in a header, and every hour of
// the good events after them is exact.
func TestTopicsCreatedByHand(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := workload.Generate(workload.Options{Seed: 4, Projects: 10, Events: 2000, Span: 4 * time.Hour,
		End: end, MaxDelay: time.Minute, BadShare: 0})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end.Add(time.Minute))
	cfg.Partitions = 2
	c := testClient(t, cfg)
	require.NoError(t, c.EnsureTopics(ctx,
		kafkax.TopicSpec{Name: cfg.Topic, Partitions: 2, ReplicationFactor: 1, Configs: map[string]string{"max.message.bytes": "4194304"}},
		kafkax.TopicSpec{Name: cfg.ResultsTopic, Partitions: 2, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}},
		kafkax.TopicSpec{Name: cfg.CheckpointTopic, Partitions: 2, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}},
		kafkax.TopicSpec{Name: cfg.DLQTopic, Partitions: 2, ReplicationFactor: 1}))
	stop := startService(t, ctx, cfg, "topics by hand")
	defer stop()

	burst := badBurst(8_000) // about 2.5 MB of dead letters
	produce(t, ctx, cfg, burst)
	big := []byte(`{"project_id":"project-000","padding":"` + strings.Repeat("y", 2<<20) + `"}`)
	w := c.Writer(cfg.Topic, &kafka.Hash{})
	w.RequiredAcks, w.BatchBytes = kafka.RequireAll, 4<<20
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Key: []byte("project-000"), Value: big}))
	kafkax.CloseWriter(w)
	produce(t, ctx, cfg, msgs)

	waitResults(t, ctx, cfg, good)
	require.Equal(t, len(burst)+1, countDLQ(t, ctx, cfg))
	var truncated []kafka.Message
	for p := range cfg.Partitions {
		require.NoError(t, c.ReadAll(ctx, cfg.DLQTopic, p, func(m kafka.Message) error {
			for _, h := range m.Headers {
				if h.Key == "truncated" {
					truncated = append(truncated, m)
				}
			}
			return nil
		}))
	}
	require.Len(t, truncated, 1, "the big message only")
	d := truncated[0]
	require.Equal(t, strconv.Itoa(len(big)), string(d.Headers[len(d.Headers)-1].Value))
	require.Less(t, len(d.Value), kafkax.DefaultMaxMessageBytes)
	require.Greater(t, len(d.Value), kafkax.DefaultMaxMessageBytes/2)
	require.Equal(t, big[:len(d.Value)], d.Value, "its first bytes")
}

// TestResultsTopicNotCompacted: a results topic created by hand that deletes by retention (Kafka's
// default policy), and input and dead-letter topics created compacted, are named in errors at
// start-up; ingest runs on.
func TestResultsTopicNotCompacted(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := testConfig(brokers, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	require.NoError(t, testClient(t, cfg).EnsureTopics(ctx,
		kafkax.TopicSpec{Name: cfg.ResultsTopic, Partitions: 1, ReplicationFactor: 1},
		kafkax.TopicSpec{Name: cfg.Topic, Partitions: 1, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}},
		kafkax.TopicSpec{Name: cfg.DLQTopic, Partitions: 1, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}}))
	var logs logbuf.Buffer
	runUntil(t, ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	require.Contains(t, logs.String(), `level=ERROR msg="the results topic is not compacted without deletion`)
	require.Contains(t, logs.String(), "topic="+cfg.ResultsTopic+" cleanup.policy=delete")
	require.Contains(t, logs.String(), `level=ERROR msg="the input topic is compacted`)
	require.Contains(t, logs.String(), `level=ERROR msg="the dead-letter topic is compacted`)
	require.NotContains(t, logs.String(), "checkpoint topic is not compacted", "ingest created it compacted")
}
