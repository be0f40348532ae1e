package ingest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/promtest"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/internal/workload"
)

// TestLostToRetention stops ingest after it read the first half of a workload; while it is down
// the rest is produced and the oldest 150 messages of it are deleted, as the input topic's
// retention does during an outage longer than itself. On restart the partition goes on from the
// first message left, counts the 150 in recordusage_events_lost_total (kafka-go's reader would
// skip them without a word), and every hour is exact for the events that are left, zeros
// included.
func TestLostToRetention(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := workload.Generate(workload.Options{Seed: 11, Projects: 8, Events: 3000, Span: 4 * time.Hour,
		End: end, MaxDelay: 10 * time.Minute, DupShare: 0.02})
	require.Len(t, good, len(msgs), "no bad messages: good[i] is the event of message i")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	now := end.Add(time.Minute)
	cfg := testConfig(brokers, now)
	cfg.Partitions = 1 // the offsets below are the messages' indexes
	half, lost := len(msgs)/2, 150

	reg := prometheus.NewRegistry()
	stop := startServiceWith(t, ctx, cfg, "before", reg)
	produce(t, ctx, cfg, msgs[:half])
	require.NoError(t, waitFor(ctx, func() bool { return promtest.Sum(t, reg, "recordusage_events_total") == float64(half) }))
	stop() // a clean stop: checkpointed at offset half

	produce(t, ctx, cfg, msgs[half:])
	deleteRecordsBefore(t, ctx, cfg.Brokers, cfg.Topic, int64(half+lost))

	reg = prometheus.NewRegistry()
	stop = startServiceWith(t, ctx, cfg, "after", reg)
	defer stop()
	kept := append(good[:half:half], good[half+lost:]...)
	waitHours(t, ctx, cfg, expectedAt(kept, now.Unix()/60)) // open sessions count through the clock's minute
	require.Equal(t, float64(lost), promtest.Sum(t, reg, "recordusage_events_lost_total"))
	require.Equal(t, float64(len(msgs)-half-lost), promtest.Sum(t, reg, "recordusage_events_total"))
}

// TestCheckGap checks the look-up a partition makes when the next message read is more than one
// offset past the one expected: messages deleted before they were read are counted and logged,
// messages that were never in the log (a gap of a topic without deletions) are not.
func TestCheckGap(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := testConfig(brokers, time.Now())
	cfg.Partitions = 1
	c := testClient(t, cfg)
	require.NoError(t, c.EnsureTopics(ctx, kafkax.TopicSpec{Name: cfg.Topic, Partitions: 1, ReplicationFactor: 1}))
	w := c.Writer(cfg.Topic, &kafka.Hash{})
	w.RequiredAcks, w.BatchTimeout = kafka.RequireAll, time.Millisecond
	for i := range 10 {
		require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: fmt.Appendf(nil, "%d", i)}))
	}
	kafkax.CloseWriter(w)
	deleteRecordsBefore(t, ctx, cfg.Brokers, cfg.Topic, 5)

	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	s, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)), reg)
	require.NoError(t, err)
	pl := &partitionLoop{s: s, partition: 0, log: s.log, m: s.m.partition(0)}

	pl.next = 2 // read up to offset 1; the next message read is at 7: 2 to 4 were deleted, 5 and 6 not
	pl.checkGap(7)
	require.Equal(t, int64(5), pl.next)
	require.Equal(t, 3.0, promtest.Sum(t, reg, "recordusage_events_lost_total"))
	require.Contains(t, logs.String(), "input messages were deleted before they were read")
	require.Contains(t, logs.String(), "from_offset=2 to_offset=4 messages=3")

	pl.next = 6 // nothing at or after 5 was deleted
	pl.checkGap(8)
	require.Equal(t, int64(6), pl.next)
	require.Equal(t, 3.0, promtest.Sum(t, reg, "recordusage_events_lost_total"))

	pl.next = 1 // all of 1 to 4 deleted, and the message read is past the first left
	pl.checkGap(9)
	require.Equal(t, 7.0, promtest.Sum(t, reg, "recordusage_events_lost_total"))
}

// deleteRecordsBefore deletes the records of partition 0 of topic before offset, as the topic's
// retention does (kafka-go has no DeleteRecords request; franz-go's protocol package does).
func deleteRecordsBefore(t *testing.T, ctx context.Context, brokers []string, topic string, offset int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	req.TimeoutMillis = 10_000
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Len(t, resp.Topics, 1)
	require.Len(t, resp.Topics[0].Partitions, 1)
	require.NoError(t, kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode))
	require.Equal(t, offset, resp.Topics[0].Partitions[0].LowWatermark)
}

// afterOneRun runs ingest over a small workload on two partitions until every hour is published,
// and stops it cleanly: the partitions have checkpoints and committed offsets.
func afterOneRun(t *testing.T, ctx context.Context, seed uint64) (Config, []reference.Event) {
	t.Helper()
	brokers, _ := kafkatest.Brokers(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	msgs, good := workload.Generate(workload.Options{Seed: seed, Projects: 8, Events: 1000, Span: 2 * time.Hour,
		End: end, MaxDelay: time.Minute})
	cfg := testConfig(brokers, end.Add(time.Minute))
	cfg.Partitions = 2
	stop := startService(t, ctx, cfg, "first run")
	produce(t, ctx, cfg, msgs)
	waitResults(t, ctx, cfg, good)
	stop()
	return cfg, good
}

// runUntil runs a service on cfg until it is ready and until holds for its metrics (nil: at
// once), stops it cleanly and returns its metrics.
func runUntil(t *testing.T, ctx context.Context, cfg Config, log *slog.Logger, until func(*prometheus.Registry) bool) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	svc, err := New(cfg, log, reg)
	require.NoError(t, err)
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	require.NoError(t, waitFor(ctx, func() bool { return svc.Ready() && (until == nil || until(reg)) }))
	stop()
	require.NoError(t, <-done)
	return reg
}

// TestInputPartitionsChanged adds a partition to the input topic between two runs: each
// partition restored from a checkpoint written with the old count says so (the metric and an
// error); a run after that, whose checkpoints have the new count, says nothing.
func TestInputPartitionsChanged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, _ := afterOneRun(t, ctx, 5)

	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 10_000
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = cfg.Topic, 3
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Len(t, resp.Topics, 1)
	require.NoError(t, kerr.ErrorForCode(resp.Topics[0].ErrorCode))

	changed := func() float64 {
		reg := runUntil(t, ctx, cfg, nil, func(reg *prometheus.Registry) bool {
			return promtest.Sum(t, reg, "recordusage_assigned_partitions") == 3
		})
		return promtest.Sum(t, reg, "recordusage_input_partitions_changed_total")
	}
	require.Equal(t, 2.0, changed(), "both partitions with a checkpoint say so")
	require.Equal(t, 0.0, changed(), "their checkpoints now have the new count")
}

// TestCheckpointMissing restarts ingest with its checkpoint topic, then with another one, as when
// the topic was deleted or --checkpoint-topic changed: each partition with a committed offset and
// no checkpoint says so (the metric and an error); a plain restart does not.
func TestCheckpointMissing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, _ := afterOneRun(t, ctx, 6)
	missing := func() float64 {
		return promtest.Sum(t, runUntil(t, ctx, cfg, nil, nil), "recordusage_checkpoints_missing_total")
	}
	require.Equal(t, 0.0, missing(), "a restart finds its checkpoints")
	cfg.CheckpointTopic += "-new"
	require.Equal(t, 2.0, missing(), "both partitions have committed offsets")
}

// TestInputTopicRecreated deletes the input topic after a run and creates it again with new, fewer
// events: each partition, whose checkpoint is past the new partition's end, says so and reads the
// new partition from its first offset, so every hour is exact for the old events and the new
// ones (kafka-go's reader alone would have waited for the old offset and skipped them).
func TestInputTopicRecreated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg, good := afterOneRun(t, ctx, 7)

	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	require.NoError(t, err)
	defer cl.Close()
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.TimeoutMillis = 10_000
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.Topic = kmsg.StringPtr(cfg.Topic)
	del.Topics = append(del.Topics, dt)
	del.TopicNames = []string{cfg.Topic}
	resp, err := del.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Len(t, resp.Topics, 1)
	require.NoError(t, kerr.ErrorForCode(resp.Topics[0].ErrorCode))
	// Deleting is asynchronous: create the topic again once the broker no longer knows it.
	require.NoError(t, waitFor(ctx, func() bool {
		return testClient(t, cfg).EnsureTopics(ctx, kafkax.TopicSpec{Name: cfg.Topic, Partitions: 2, ReplicationFactor: 1}) == nil &&
			isEmptyTopic(ctx, testClient(t, cfg), cfg.Topic)
	}))

	end := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
	msgs, good2 := workload.Generate(workload.Options{Seed: 8, Projects: 8, Events: 200, Span: time.Hour,
		End: end, MaxDelay: time.Minute})
	produce(t, ctx, cfg, msgs)
	cfg.Now = func() time.Time { return end.Add(time.Minute) }
	reg := prometheus.NewRegistry()
	stop := startServiceWith(t, ctx, cfg, "after", reg)
	defer stop()
	waitResults(t, ctx, cfg, append(good, good2...))
	require.Equal(t, 2.0, promtest.Sum(t, reg, "recordusage_input_reset_total"))
}

// isEmptyTopic reports whether both partitions of topic exist and are empty: a topic created
// again, not the old one still being deleted.
func isEmptyTopic(ctx context.Context, c kafkax.Client, topic string) bool {
	for p := range 2 {
		first, next, err := c.Offsets(ctx, topic, p)
		if err != nil || first != 0 || next != 0 {
			return false
		}
	}
	return true
}
