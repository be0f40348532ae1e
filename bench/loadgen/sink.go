package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/internal/kafkax"
)

// Sink receives the messages of a run, a batch at a time. Write must be done with the messages'
// bytes when it returns: Run reuses them for the next batch.
type Sink interface {
	Write(ctx context.Context, msgs []Message) error
}

// KafkaConfig configures a KafkaSink.
type KafkaConfig struct {
	Brokers []string
	// Security is how the connections to the brokers are secured (TLS, SASL); the zero value
	// is plaintext without authentication.
	Security kafkax.Security
	Topic    string
	// RequiredAcks is kafka.RequireOne (default) or kafka.RequireAll.
	RequiredAcks kafka.RequiredAcks
	// BatchSize and BatchTimeout are the writer's (defaults 5000 and 10ms).
	BatchSize    int
	BatchTimeout time.Duration
	// Compression is the codec of the batches written (default none), as producers in the field
	// may use: kafka.Gzip, kafka.Snappy, kafka.Lz4 or kafka.Zstd.
	Compression kafka.Compression
	// Balancer places each key in a partition (default kafka.Murmur2Balancer, as the Java
	// client does). It must place keys as the topic's other producers do (docs/operations.md).
	Balancer kafka.Balancer
	// Log receives kafka-go's errors that the writer retries by itself (nil: none).
	Log *slog.Logger
}

// KafkaSink writes messages to a Kafka topic with kafka-go, keyed by project and partitioned by
// the hash of the key (KafkaConfig.Balancer), as every producer of record-events must.
type KafkaSink struct {
	kafka kafkax.Client
	w     *kafka.Writer
	msgs  []kafka.Message // reused between writes
}

// NewKafkaSink returns a sink writing to cfg.Topic. It does not connect until the first write
// (or Preflight).
func NewKafkaSink(cfg KafkaConfig) (*KafkaSink, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("loadgen: kafka sink needs brokers and a topic")
	}
	kc, err := kafkax.NewClient(cfg.Brokers, cfg.Security)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
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
	// Each writer has its own Transport (Client.Writer makes one; a shared default one mixes
	// connections between writers).
	kc = kc.WithLogger(cfg.Log)
	if cfg.Balancer == nil {
		cfg.Balancer = kafka.Murmur2Balancer{}
	}
	w := kc.Writer(cfg.Topic, cfg.Balancer)
	w.RequiredAcks, w.BatchSize, w.BatchTimeout, w.BatchBytes = cfg.RequiredAcks, cfg.BatchSize, cfg.BatchTimeout, 16<<20
	w.Compression = cfg.Compression
	return &KafkaSink{kafka: kc, w: w}, nil
}

// Preflight checks that the brokers can be used with the configured security, so that a wrong
// password or certificate stops the run at once with an error naming the broker and the cause,
// rather than as writes that fail after retrying.
func (s *KafkaSink) Preflight(ctx context.Context, log *slog.Logger) error {
	if err := s.kafka.Preflight(ctx, log); err != nil {
		return fmt.Errorf("start-up check: %w", err)
	}
	return nil
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
