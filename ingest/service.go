package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/results"
)

// Service runs the consumer group. Membership uses kafka-go's ConsumerGroup generations rather
// than a group Reader: a generation says exactly which partitions this instance owns and ends
// (cancelling their contexts) before a rebalance completes, so the state of a revoked partition
// is checkpointed and dropped, and an assigned one restored, at the right moment. A group Reader
// hides assignments, so a stale engine could keep publishing for a partition another instance
// now owns. Each partition is read with its own Reader (FetchMessage, never ReadMessage), and its
// offsets are committed through the generation only after a checkpoint holds the state up to them.
type Service struct {
	cfg   Config
	kafka kafkax.Client // every connection to Kafka goes through it
	log   *slog.Logger
	m     *metrics

	results, dlq, checkpoints *kafka.Writer
	ckptPartitions            int
	batchLimit                map[string]int // of the topics written: the largest batch each accepts, less a margin
	inputPartitions           atomic.Int64   // the input topic's partition count, learned at start-up and at each generation
	wallClock                 bool           // cfg.Now is time.Now: the partition loops share their reads of it (clock)
	ready                     atomic.Bool
	assigned                  atomic.Int64
	caughtUp                  atomic.Int64 // assigned partitions read to their end and published
}

// New returns a service; reg may be nil (no metrics).
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	wallClock := cfg.Now == nil
	if wallClock {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kc, err := kafkax.NewClient(cfg.Brokers, cfg.Security)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	// The client's readers, writers and group log the errors kafka-go retries by itself.
	return &Service{cfg: cfg, kafka: kc.WithLogger(log), log: log, m: newMetrics(reg), wallClock: wallClock}, nil
}

// Ready reports whether the service has joined the group and restored its partitions.
func (s *Service) Ready() bool { return s.ready.Load() }

// CaughtUp reports whether the service is ready and every partition it owns has read the
// partition to the end it saw last and published the results of everything read: the moment
// the results topic holds what the input up to there implies. It is a snapshot; new input
// makes it false again until it is read and published.
func (s *Service) CaughtUp() bool {
	return s.ready.Load() && s.caughtUp.Load() == s.assigned.Load()
}

// Run checks that Kafka can be used with the configured security (a wrong password or
// certificate is an error naming the broker and the cause), creates missing topics, joins the
// group and processes partitions until ctx is done; then it checkpoints and commits every
// partition it owns and returns.
func (s *Service) Run(ctx context.Context) error {
	if err := s.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	s.openWriters()
	defer kafkax.CloseWriter(s.results)
	defer kafkax.CloseWriter(s.dlq)
	defer kafkax.CloseWriter(s.checkpoints)
	group, err := s.kafka.ConsumerGroup(kafka.ConsumerGroupConfig{
		ID: s.cfg.Group, Topics: []string{s.cfg.Topic}, StartOffset: kafka.FirstOffset,
		SessionTimeout: s.cfg.SessionTimeout, HeartbeatInterval: s.cfg.HeartbeatInterval,
		RebalanceTimeout: s.cfg.RebalanceTimeout, JoinGroupBackoff: time.Second, WatchPartitionChanges: true,
	})
	if err != nil {
		return fmt.Errorf("ingest: join group %s: %w", s.cfg.Group, err)
	}
	defer group.Close()
	s.log.Info("joined consumer group", "group", s.cfg.Group, "topic", s.cfg.Topic, "brokers", s.cfg.Brokers)
	s.generations(ctx, group)
	return nil
}

// prepare runs the start-up check, creates the missing topics and learns the number of
// partitions of the checkpoint topic (with the leaders of every topic, in one go).
func (s *Service) prepare(ctx context.Context) error {
	c := s.cfg
	if err := s.kafka.Preflight(ctx, s.log); err != nil {
		return fmt.Errorf("start-up check: %w", err)
	}
	counts, err := s.kafka.EnsureTopicsPartitions(ctx, c.Topics()...)
	if err != nil {
		return err
	}
	s.ckptPartitions = counts[c.CheckpointTopic]
	s.inputPartitions.Store(int64(counts[c.Topic]))
	return s.checkTopicConfigs(ctx)
}

// batchMargin is kept under a topic's max.message.bytes for what kafka-go's estimate of a batch's
// size leaves out (the record batch's header).
const batchMargin = 1 << 10

// resultsRetentionNeeded is how long the results topic must keep a record: the query service
// answers for 90 days back, from what it reads at start-up.
const resultsRetentionNeeded = 91 * 24 * time.Hour

// checkTopicConfigs reads the configs of the topics ingest writes, which may have been created by
// hand and are used as they are:
//   - how large a record batch each accepts: one created with Kafka's default (1 MiB) would refuse
//     the dead-letter writer's 8 MiB batches, and retrying would never help. Batches are kept
//     under the limits, and a dead letter bigger than its topic accepts is truncated (handle). A
//     checkpoint topic that cannot take a chunk is an error: no checkpoint could be written.
//   - whether the results and checkpoint topics are compacted: a results topic that deletes by
//     retention loses the older hours for every query service started since, which then reads
//     them as 0; that is logged as an error (it may be a choice), not refused. So are an input
//     or dead-letter topic that is compacted, which keeps only the latest message of each
//     project.
func (s *Service) checkTopicConfigs(ctx context.Context) error {
	c := s.cfg
	topics := []string{c.ResultsTopic, c.DLQTopic, c.CheckpointTopic}
	cfgs, err := s.kafka.TopicConfigs(ctx, []string{"max.message.bytes", "cleanup.policy", "retention.ms"}, append(topics, c.Topic)...)
	if err != nil {
		s.log.Warn("cannot read the topics' configs; assuming Kafka's default max.message.bytes for all, and not checking "+
			"that the results are compacted (grant this user DescribeConfigs on them)", "default", kafkax.DefaultMaxMessageBytes, "err", err)
		cfgs = nil
	}
	s.batchLimit = map[string]int{}
	for _, t := range topics {
		n, err := strconv.Atoi(cfgs[t]["max.message.bytes"])
		if err != nil || n <= 0 {
			n = kafkax.DefaultMaxMessageBytes
		}
		s.batchLimit[t] = n - batchMargin
	}
	if s.batchLimit[c.CheckpointTopic] < chunkBatchBytes {
		return fmt.Errorf("ingest: the checkpoint topic %s accepts batches up to %d bytes (max.message.bytes), and a checkpoint "+
			"chunk needs %d: raise its max.message.bytes to at least %d", c.CheckpointTopic, s.batchLimit[c.CheckpointTopic]+batchMargin,
			chunkBatchBytes, 1<<20)
	}
	if cfgs == nil {
		return nil
	}
	if policy := cfgs[c.Topic]["cleanup.policy"]; strings.Contains(policy, "compact") {
		s.log.Error("the input topic is compacted: Kafka keeps only the latest message of each key, and events are keyed by "+
			"project, so compaction deletes all but the latest event of each project, read or not; set cleanup.policy=delete on it",
			"topic", c.Topic, "cleanup.policy", policy)
	}
	policy := cfgs[c.ResultsTopic]["cleanup.policy"]
	retention, _ := strconv.ParseInt(cfgs[c.ResultsTopic]["retention.ms"], 10, 64) // -1: forever
	if !strings.Contains(policy, "compact") ||
		strings.Contains(policy, "delete") && retention >= 0 && time.Duration(retention)*time.Millisecond < resultsRetentionNeeded {
		s.log.Error("the results topic is not compacted without deletion: a query service started after its retention "+
			"reads the hours it deleted as 0; set cleanup.policy=compact on it",
			"topic", c.ResultsTopic, "cleanup.policy", policy, "retention.ms", retention)
	}
	if policy := cfgs[c.DLQTopic]["cleanup.policy"]; strings.Contains(policy, "compact") {
		s.log.Error("the dead-letter topic is compacted: dead letters are keyed like the input, by project, so compaction "+
			"keeps only the latest of each; set cleanup.policy=delete on it", "topic", c.DLQTopic, "cleanup.policy", policy)
	}
	if policy := cfgs[c.CheckpointTopic]["cleanup.policy"]; !strings.Contains(policy, "compact") {
		s.log.Warn("the checkpoint topic is not compacted: it keeps every checkpoint until its retention; set cleanup.policy=compact on it",
			"topic", c.CheckpointTopic, "cleanup.policy", policy)
	}
	return nil
}

// Topics returns the topics the service uses, as it creates them when they are missing: the
// input, the results (compacted), the checkpoints (compacted, with room for their chunks) and
// the dead letters (with their retention).
func (c Config) Topics() []kafkax.TopicSpec {
	return []kafkax.TopicSpec{
		{Name: c.Topic, Partitions: c.Partitions, ReplicationFactor: c.ReplicationFactor},
		{Name: c.ResultsTopic, Partitions: c.ResultsPartitions, ReplicationFactor: c.ReplicationFactor,
			Configs: map[string]string{"cleanup.policy": "compact"}},
		{Name: c.CheckpointTopic, Partitions: c.Partitions, ReplicationFactor: c.ReplicationFactor,
			Configs: map[string]string{"cleanup.policy": "compact", "max.message.bytes": strconv.Itoa(2 << 20)}},
		{Name: c.DLQTopic, Partitions: c.Partitions, ReplicationFactor: c.ReplicationFactor,
			Configs: map[string]string{"retention.ms": strconv.FormatInt(c.DLQRetention.Milliseconds(), 10),
				"max.message.bytes": strconv.Itoa(dlqMaxBytes)}},
	}
}

// openWriters creates the writers of results, dead letters and checkpoints. Each has its own
// transport (Client.Writer makes one): kafka-go's shared default transport caches topic
// metadata, and a topic created a moment ago would look unknown for seconds.
func (s *Service) openWriters() {
	newWriter := func(topic string, b kafka.Balancer, batchBytes int64) *kafka.Writer {
		w := s.kafka.Writer(topic, b)
		w.RequiredAcks, w.BatchTimeout, w.BatchSize = kafka.RequireAll, 2*time.Millisecond, 10_000
		w.BatchBytes, w.MaxAttempts, w.WriteBackoffMin = batchBytes, 5, 50*time.Millisecond
		return w
	}
	// A topic limits the size of a record batch (max.message.bytes, 1 MiB by default), so
	// batches stay under the limit of each (checkTopicConfigs); a dead letter may be as big as the
	// largest input message, for which the dead-letter topic is created with a larger limit (and
	// one that is too big for the topic is truncated); a checkpoint chunk goes in a batch of its
	// own.
	s.results = newWriter(s.cfg.ResultsTopic, &kafka.Hash{}, int64(min(1<<20, s.batchLimit[s.cfg.ResultsTopic])))
	s.dlq = newWriter(s.cfg.DLQTopic, &kafka.Hash{}, int64(min(dlqMaxBytes, s.batchLimit[s.cfg.DLQTopic])))
	s.checkpoints = newWriter(s.cfg.CheckpointTopic, kafka.BalancerFunc(partitionOfKey), chunkBatchBytes)
}

// generations runs one consumer-group generation after the other until ctx ends: each
// assigned partition gets a partition loop of its own, which the generation ends (after it has
// published, checkpointed and committed) before the next rebalance completes.
func (s *Service) generations(ctx context.Context, group *kafka.ConsumerGroup) {
	for {
		gen, err := group.Next(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("consumer group generation failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		s.start(ctx, gen)
	}
}

// start starts the partition loops of a generation; the service is ready once all are restored.
func (s *Service) start(ctx context.Context, gen *kafka.Generation) {
	assigned := gen.Assignments[s.cfg.Topic]
	s.learnInputPartitions(ctx)
	s.log.Info("partitions assigned", "generation", gen.ID, "count", len(assigned))
	s.m.partitions.Set(float64(len(assigned)))
	s.assigned.Store(int64(len(assigned)))
	var restored atomic.Int64
	if len(assigned) == 0 {
		s.ready.Store(true)
	}
	for _, a := range assigned {
		p, off := a.ID, a.Offset
		gen.Start(func(gctx context.Context) {
			pl := &partitionLoop{s: s, gen: gen, partition: p, log: s.log.With("partition", p), m: s.m.partition(p),
				source: []kafka.Header{{Key: results.SourceHeader, Value: results.SourceValue(s.cfg.Topic, p)}}}
			pl.run(ctx, gctx, off, func() {
				if restored.Add(1) == int64(len(assigned)) {
					s.ready.Store(true)
				}
			})
		})
	}
}

// dlqMaxBytes bounds a batch of dead letters; the dead-letter topic accepts batches this big.
const dlqMaxBytes = 8 << 20

// learnInputPartitions reads the input topic's partition count again: partitions may have been
// added since start-up (the group watches for that, and a new generation follows). On an error
// the count known before stays.
func (s *Service) learnInputPartitions(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := s.kafka.WaitPartitions(ctx, s.cfg.Topic)
	if err != nil {
		if !errors.Is(ctx.Err(), context.Canceled) { // not stopping
			s.log.Warn("cannot read the input topic's partition count; keeping the one known", "err", err)
		}
		return
	}
	s.inputPartitions.Store(int64(n))
}
