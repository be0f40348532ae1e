// Package ingest is the stream processor of CONTRACT.md §7: it consumes record-events in the
// consumer group record-usage, runs one engine per assigned partition, publishes hourly results
// to a compacted topic, dead-letters bad messages, and checkpoints each partition's engine to a
// compacted topic before committing its offsets.
//
// See docs/architecture.md for the data flow and the offset-commit rule.
package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/recordusage/recordusage/engine"
	"github.com/recordusage/recordusage/internal/kafkax"
)

// Config configures a Service. Start from DefaultConfig.
type Config struct {
	Brokers         []string
	Topic           string // input events (default record-events)
	Group           string // consumer group (default record-usage)
	ResultsTopic    string // compacted hourly results (default record-usage-hourly)
	CheckpointTopic string // compacted engine checkpoints (default record-usage-checkpoints)
	DLQTopic        string // dead letters (default record-events-dlq)

	// Security is how every connection to the brokers is secured (TLS, SASL); the zero value
	// is plaintext without authentication.
	Security kafkax.Security

	// Topics are created with these when missing.
	Partitions        int           // of the input and checkpoint topics (default 6)
	ResultsPartitions int           // of the results topic (default 3)
	ReplicationFactor int           // of every topic (default 1)
	DLQRetention      time.Duration // of the dead-letter topic (default 7 days)

	Engine             engine.Config
	FlushInterval      time.Duration // how often results are published (default 200ms)
	CheckpointInterval time.Duration // how often each partition is checkpointed (default 10s)
	// BacklogFlushInterval is how often results are published while a partition reads a
	// backlog (default 1s). Each flush publishes every hour that changed since the last one, and
	// in a backlog most hours change between flushes: publishing less often writes (and makes
	// every query replica read) fewer intermediate values. The partition still publishes at
	// once when it reaches its end.
	BacklogFlushInterval time.Duration

	// Consumer-group membership. A killed instance's partitions move to the others once its
	// session times out; members heartbeat well within the session, and a rebalance waits at most
	// RebalanceTimeout for every member to rejoin (each flushes, checkpoints and commits first).
	SessionTimeout    time.Duration // default 10s; the broker's group.min.session.timeout.ms is 6s
	HeartbeatInterval time.Duration // default 3s; at most a third of SessionTimeout
	RebalanceTimeout  time.Duration // default 30s

	Now func() time.Time // wall clock; time.Now when nil

	// hook, when set (by tests), is called by a partition's loop at some points: "checkpoint",
	// before a periodic checkpoint; "finish", as it starts its final publish and checkpoint;
	// "finished", when it is done. A test holds the loop there to make the instance a zombie.
	hook func(pl *partitionLoop, at string)
}

// DefaultGCPercent is the ingest process's garbage-collection target when GOGC is not set
// (cmd/ingest --gc-percent). Its live heap is mostly the engines' pointer-free state, cheap to
// mark, and almost all its garbage is short-lived: kafka-go allocates every message's key and
// value. With Go's default of 100 the collector runs several times per second through a
// backlog; at 400 it runs a quarter as often, which the side-by-side benchmark (bench/peers)
// measured as about a tenth less CPU. A soft memory limit keeps the larger heap from growing
// past what the process may use.
const DefaultGCPercent = 400

// DefaultConfig returns the defaults of CONTRACT.md §7–§8.
func DefaultConfig() Config {
	return Config{
		Topic: "record-events", Group: "record-usage", ResultsTopic: "record-usage-hourly",
		CheckpointTopic: "record-usage-checkpoints", DLQTopic: "record-events-dlq",
		Partitions: 6, ResultsPartitions: 3, ReplicationFactor: 1, DLQRetention: 7 * 24 * time.Hour,
		Engine: engine.DefaultConfig(), FlushInterval: 200 * time.Millisecond, BacklogFlushInterval: time.Second, CheckpointInterval: 10 * time.Second,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: 3 * time.Second, RebalanceTimeout: 30 * time.Second,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("ingest: no brokers")
	case c.Topic == "" || c.Group == "" || c.ResultsTopic == "" || c.CheckpointTopic == "" || c.DLQTopic == "":
		return errors.New("ingest: a topic or group name is empty")
	case c.Partitions < 1 || c.ResultsPartitions < 1 || c.ReplicationFactor < 1:
		return fmt.Errorf("ingest: partitions (%d, %d) and replication factor (%d) must be at least 1",
			c.Partitions, c.ResultsPartitions, c.ReplicationFactor)
	case c.BacklogFlushInterval < c.FlushInterval:
		return fmt.Errorf("ingest: backlog flush interval %v must be at least the flush interval %v",
			c.BacklogFlushInterval, c.FlushInterval)
	case c.FlushInterval <= 0 || c.CheckpointInterval < c.FlushInterval:
		return fmt.Errorf("ingest: flush interval %v must be positive and at most the checkpoint interval %v",
			c.FlushInterval, c.CheckpointInterval)
	case c.SessionTimeout <= 0 || c.HeartbeatInterval <= 0 || c.RebalanceTimeout <= 0:
		return fmt.Errorf("ingest: session timeout %v, heartbeat interval %v and rebalance timeout %v must be positive",
			c.SessionTimeout, c.HeartbeatInterval, c.RebalanceTimeout)
	case c.HeartbeatInterval*3 > c.SessionTimeout:
		return fmt.Errorf("ingest: heartbeat interval %v is more than a third of the session timeout %v; "+
			"a member would be expelled after one late heartbeat", c.HeartbeatInterval, c.SessionTimeout)
	}
	if err := c.Security.Validate(); err != nil {
		return err
	}
	return c.Engine.Validate()
}
