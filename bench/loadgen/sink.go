package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// Sink receives the messages of a run, a batch at a time. Write must be done with the messages'
// bytes when it returns: Run reuses them for the next batch.
type Sink interface {
	Write(ctx context.Context, msgs []Message) error
}

// KafkaConfig configures a KafkaSink.
type KafkaConfig struct {
	Brokers []string
	Topic   string
	// RequiredAcks is kafka.RequireOne (default) or kafka.RequireAll.
	RequiredAcks kafka.RequiredAcks
	// BatchSize and BatchTimeout are the writer's (defaults 5000 and 10ms).
	BatchSize    int
	BatchTimeout time.Duration
}

// KafkaSink writes messages to a Kafka topic with kafka-go, keyed by project and partitioned by
// the hash of the key, as every producer of record-events must.
type KafkaSink struct {
	w    *kafka.Writer
	msgs []kafka.Message // reused between writes
}

// NewKafkaSink returns a sink writing to cfg.Topic. It does not connect until the first write.
func NewKafkaSink(cfg KafkaConfig) (*KafkaSink, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("loadgen: kafka sink needs brokers and a topic")
	}
	if cfg.RequiredAcks == kafka.RequireNone {
		cfg.RequiredAcks = kafka.RequireOne
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 5000
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 10 * time.Millisecond
	}
	// Each writer has its own Transport (a shared default one mixes connections between
	// writers), and no compression: reading Lz4 back hung in our tests.
	return &KafkaSink{w: &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: &kafka.Hash{},
		Transport: &kafka.Transport{}, RequiredAcks: cfg.RequiredAcks,
		BatchSize: cfg.BatchSize, BatchTimeout: cfg.BatchTimeout, BatchBytes: 16 << 20,
	}}, nil
}

// Write sends msgs and waits until the broker has acknowledged them.
func (s *KafkaSink) Write(ctx context.Context, msgs []Message) error {
	s.msgs = s.msgs[:0]
	for i := range msgs {
		s.msgs = append(s.msgs, kafka.Message{Key: msgs[i].Key, Value: msgs[i].Value})
	}
	if err := s.w.WriteMessages(ctx, s.msgs...); err != nil {
		return fmt.Errorf("loadgen: write %d messages to %s: %w", len(msgs), s.w.Topic, err)
	}
	clear(s.msgs) // drop the references to the batch's bytes
	return nil
}

// Close closes the writer, waiting at most timeout: kafka-go's Close can hang when the broker
// is gone.
func (s *KafkaSink) Close(timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- s.w.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("loadgen: kafka writer did not close within %v", timeout)
	}
}

// WriterSink writes each message's value on a line of its own (newline-delimited JSON, bad
// messages included as they are). Keys are not written: a good event's key is its project_id.
type WriterSink struct {
	w *bufio.Writer
}

// NewWriterSink returns a sink writing to w through a buffer; call Flush at the end.
func NewWriterSink(w io.Writer) *WriterSink { return &WriterSink{w: bufio.NewWriterSize(w, 256<<10)} }

// Write writes the values of msgs, one a line.
func (s *WriterSink) Write(_ context.Context, msgs []Message) error {
	for i := range msgs {
		s.w.Write(msgs[i].Value)
		s.w.WriteByte('\n')
	}
	if err := s.w.Flush(); err != nil { // a batch at a time, so that a pipe sees progress
		return fmt.Errorf("loadgen: write output: %w", err)
	}
	return nil
}

// Flush writes out what is buffered.
func (s *WriterSink) Flush() error { return s.w.Flush() }
