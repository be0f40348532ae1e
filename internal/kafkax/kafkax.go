// Package kafkax holds the Kafka plumbing shared by ingest, query and the load generator: the
// Client that carries the TLS and SASL settings into every connection, the start-up check that
// turns a wrong password or certificate into a clear error, creating topics, reading a partition
// up to its end, and the embedded in-process broker for trying the product out.
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

// EnsureTopics creates the topics that do not exist yet, through the cluster's controller.
// Existing topics are left as they are (their partition counts are not changed).
func (c Client) EnsureTopics(ctx context.Context, specs ...TopicSpec) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctrl, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("kafkax: find the controller: %w", err)
	}
	cc, err := c.Dialer().DialContext(ctx, "tcp",
		net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
	if err != nil {
		return fmt.Errorf("kafkax: dial the controller %s:%d: %w", ctrl.Host, ctrl.Port, err)
	}
	defer cc.Close()
	for _, s := range specs {
		tc := kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor}
		for k, v := range s.Configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		if err := cc.CreateTopics(tc); err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("kafkax: create topic %s (%d partitions, replication %d): %w",
				s.Name, s.Partitions, s.ReplicationFactor, err)
		}
	}
	// Wait until every topic has a leader for each partition, so that the first reads and
	// writes do not fail.
	for _, s := range specs {
		if _, err := c.WaitPartitions(ctx, s.Name); err != nil {
			return err
		}
	}
	return nil
}

// WaitPartitions returns the number of partitions of a topic once each has a leader.
func (c Client) WaitPartitions(ctx context.Context, topic string) (int, error) {
	for {
		n, err := c.partitions(ctx, topic)
		if err == nil && n > 0 {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("kafkax: topic %s has no leaders yet: %v (%w)", topic, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c Client) partitions(ctx context.Context, topic string) (int, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ps, err := conn.ReadPartitions(topic)
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		if p.Leader.Host == "" || p.Error != nil {
			return 0, fmt.Errorf("partition %d has no leader", p.ID)
		}
	}
	return len(ps), nil
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
	// names a leader: retry errors that Kafka calls temporary, for up to five seconds.
	for attempt := 0; ; attempt++ {
		first, next, err = c.offsetsOnce(ctx, topic, partition)
		if err == nil || attempt == 50 || !temporary(err) {
			return first, next, err
		}
		select {
		case <-ctx.Done():
			return 0, 0, err
		case <-time.After(100 * time.Millisecond):
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
