// Package kafkax holds the Kafka plumbing shared by ingest, query and the load generator: the
// Client that carries the TLS and SASL settings into every connection (and, given a logger, logs
// the errors kafka-go retries by itself: errorlog.go), the start-up check that turns a wrong
// password or certificate into a clear error, creating topics, reading a partition up to its
// end, and the embedded in-process broker for trying the product out.
package kafkax

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// TopicSpec describes a topic to create when it is missing.
type TopicSpec struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	Configs           map[string]string // e.g. cleanup.policy=compact, retention.ms=…
}

// EnsureTopics creates the topics that do not exist yet and waits until every partition of
// each has a leader. Existing topics are left as they are (their partition counts and configs
// are not changed). See EnsureTopicsPartitions.
func (c Client) EnsureTopics(ctx context.Context, specs ...TopicSpec) error {
	_, err := c.EnsureTopicsPartitions(ctx, specs...)
	return err
}

// EnsureTopicsPartitions is EnsureTopics, and returns the number of partitions of each topic.
// It costs one metadata request when every topic exists with a leader for each partition, as
// on a restart; otherwise the missing topics are created in one request to the cluster's
// controller, and their leaders (and those of existing topics that lack one) awaited with one
// metadata request per poll.
func (c Client) EnsureTopicsPartitions(ctx context.Context, specs ...TopicSpec) (map[string]int, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stopCtx := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) }) // unblock a request on cancel
	defer stopCtx()
	// The metadata of every topic (not only ours) is one request that never asks the broker
	// to auto-create a topic with its defaults, which a request naming a missing topic may.
	// When it fails, every topic is treated as missing: creating an existing topic is a no-op.
	existing, err := topicStates(conn)
	if err != nil {
		existing = nil
	}
	counts := make(map[string]int, len(specs))
	var missing []TopicSpec
	var await []string
	for _, s := range specs {
		st, ok := existing[s.Name]
		switch {
		case !ok:
			missing = append(missing, s)
			await = append(await, s.Name)
		case !st.led:
			await = append(await, s.Name)
		default:
			counts[s.Name] = st.partitions
		}
	}
	if len(missing) > 0 {
		if err := c.createTopics(ctx, conn, missing); err != nil {
			return nil, err
		}
	}
	// Wait until every new topic has a leader for each partition, so that the first reads and
	// writes do not fail.
	if len(await) > 0 {
		got, err := waitLeaders(ctx, conn, await)
		if err != nil {
			return nil, err
		}
		for name, n := range got {
			counts[name] = n
		}
	}
	return counts, nil
}

// topicState is what the metadata says of a topic: its partitions and whether each has a leader.
type topicState struct {
	partitions int
	led        bool
}

// topicStates returns the state of every topic the cluster shows this client.
func topicStates(conn *kafka.Conn) (map[string]topicState, error) {
	ps, err := conn.ReadPartitions() // no topic named: all of them
	if err != nil {
		return nil, err
	}
	states := map[string]topicState{}
	for _, p := range ps {
		st, ok := states[p.Topic]
		if !ok {
			st.led = true
		}
		st.partitions++
		st.led = st.led && p.Leader.Host != "" && p.Error == nil
		states[p.Topic] = st
	}
	return states, nil
}

// createTopics creates specs in one request through the cluster's controller (conn when it is
// the controller). A topic that exists by then is no error. When the request fails, each topic
// is created on its own, so that the error names the topic that cannot be created.
func (c Client) createTopics(ctx context.Context, conn *kafka.Conn, specs []TopicSpec) error {
	ctrl, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("kafkax: find the controller: %w", err)
	}
	cc := conn
	if addr := net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)); addr != conn.RemoteAddr().String() {
		cc, err = c.Dialer().DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("kafkax: dial the controller %s: %w", addr, err)
		}
		defer cc.Close()
	}
	configs := make([]kafka.TopicConfig, len(specs))
	for i, s := range specs {
		configs[i] = topicConfig(s)
	}
	if err := cc.CreateTopics(configs...); err == nil || errors.Is(err, kafka.TopicAlreadyExists) {
		return nil
	}
	for i, s := range specs {
		if err := cc.CreateTopics(configs[i]); err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("kafkax: create topic %s (%d partitions, replication %d): %w",
				s.Name, s.Partitions, s.ReplicationFactor, err)
		}
	}
	return nil
}

func topicConfig(s TopicSpec) kafka.TopicConfig {
	tc := kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor}
	for k, v := range s.Configs {
		tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	return tc
}

// waitLeaders polls the metadata of topics, which exist, until each partition of each has a
// leader, and returns their numbers of partitions. A topic created a moment ago usually has
// its leaders within milliseconds, so the polls start close together.
func waitLeaders(ctx context.Context, conn *kafka.Conn, topics []string) (counts map[string]int, err error) {
	if err := poll(ctx, func() error { counts, err = leaders(conn, topics); return err }); err != nil {
		return nil, fmt.Errorf("kafkax: topics %v have no leaders yet: %w", topics, err)
	}
	return counts, nil
}

// leaders returns the number of partitions of each topic, or an error unless each partition
// of each topic has a leader.
func leaders(conn *kafka.Conn, topics []string) (map[string]int, error) {
	ps, err := conn.ReadPartitions(topics...)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(topics))
	for _, p := range ps {
		if p.Leader.Host == "" || p.Error != nil {
			return nil, fmt.Errorf("partition %d of %s has no leader", p.ID, p.Topic)
		}
		counts[p.Topic]++
	}
	for _, t := range topics {
		if counts[t] == 0 {
			return nil, fmt.Errorf("topic %s has no partitions yet", t)
		}
	}
	return counts, nil
}

// maxPoll is the longest wait between two polls of a topic or partition that is not ready yet.
const maxPoll = 100 * time.Millisecond

// poll calls try until it succeeds or ctx ends, waiting 1 ms after the first failure and twice
// as long after each next one, up to maxPoll. When ctx ends it returns try's last error with
// ctx's.
func poll(ctx context.Context, try func() error) error {
	for wait := time.Millisecond; ; wait = min(2*wait, maxPoll) {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%v (%w)", err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// WaitPartitions returns the number of partitions of a topic once each has a leader. It dials
// for each poll, so it also waits out a broker that is restarting.
func (c Client) WaitPartitions(ctx context.Context, topic string) (n int, err error) {
	if err := poll(ctx, func() error { n, err = c.partitions(ctx, topic); return err }); err != nil {
		return 0, fmt.Errorf("kafkax: topic %s has no leaders yet: %w", topic, err)
	}
	return n, nil
}

func (c Client) partitions(ctx context.Context, topic string) (int, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	counts, err := leaders(conn, []string{topic})
	if err != nil {
		return 0, err
	}
	return counts[topic], nil
}

func (c Client) dial(ctx context.Context) (*kafka.Conn, error) {
	var errs []error
	d := c.Dialer()
	for _, b := range c.brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("kafkax: no broker of %v answers: %w", c.brokers, errors.Join(errs...))
}

// Offsets returns the first and the next (high watermark) offset of a partition.
func (c Client) Offsets(ctx context.Context, topic string, partition int) (first, next int64, err error) {
	// A partition created a moment ago can answer "not leader" for a while after its metadata
	// names a leader: retry errors that Kafka calls temporary, for up to five seconds. It
	// takes a broker tens to a few hundred milliseconds, so the retries are close together
	// (5 ms, then up to 25 ms apart: measured as quick as any, where 100 ms steps overshoot).
	giveUp := time.Now().Add(5 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 25*time.Millisecond) {
		first, next, err = c.offsetsOnce(ctx, topic, partition)
		if err == nil || !temporary(err) || time.Now().After(giveUp) {
			return first, next, err
		}
		select {
		case <-ctx.Done():
			return 0, 0, err
		case <-time.After(wait):
		}
	}
}

// temporary reports whether err holds a Kafka error code that Kafka says may go away by itself.
func temporary(err error) bool {
	var ke kafka.Error
	return errors.As(err, &ke) && ke.Temporary()
}

func (c Client) offsetsOnce(ctx context.Context, topic string, partition int) (first, next int64, err error) {
	var errs []error
	d := c.Dialer()
	for _, b := range c.brokers {
		conn, err := d.DialLeader(ctx, "tcp", b, topic, partition)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		first, next, err = conn.ReadOffsets()
		conn.Close()
		if err == nil {
			return first, next, nil
		}
		errs = append(errs, err)
	}
	return 0, 0, fmt.Errorf("kafkax: offsets of %s/%d: %w", topic, partition, errors.Join(errs...))
}

// ReadAll calls fn for every message of a partition from its first offset up to the end it had
// when ReadAll started.
func (c Client) ReadAll(ctx context.Context, topic string, partition int, fn func(kafka.Message) error) error {
	first, end, err := c.Offsets(ctx, topic, partition)
	if err != nil || first >= end {
		return err
	}
	r := c.Reader(kafka.ReaderConfig{Topic: topic, Partition: partition,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	defer CloseReader(r)
	if err := r.SetOffset(first); err != nil {
		return err
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("kafkax: read %s/%d: %w", topic, partition, err)
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Offset+1 >= end {
			return nil
		}
	}
}

// CloseReader closes r without waiting more than five seconds: kafka-go's Close can hang when
// the broker is gone.
func CloseReader(r *kafka.Reader) { closeWithin(r.Close) }

// CloseWriter flushes and closes w, waiting at most five seconds.
func CloseWriter(w *kafka.Writer) { closeWithin(w.Close) }

func closeWithin(close func() error) {
	done := make(chan struct{}, 1) // buffered: a Close that returns after the timeout does not leak
	go func() { close(); done <- struct{}{} }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
