package kafkax_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/logbuf"
)

// notifyingBuffer is a log buffer that says when something was written.
type notifyingBuffer struct {
	logbuf.Buffer
	once  sync.Once
	wrote chan struct{} // closed at the first write
}

func (b *notifyingBuffer) Write(p []byte) (int, error) {
	n, err := b.Buffer.Write(p)
	b.once.Do(func() { close(b.wrote) })
	return n, err
}

// logUntilFirstLine runs use, in a goroutine of its own, with a Client of addr that logs to a
// buffer, until the first line is logged; then it cancels use's context, waits for use to return
// and calls the close it returns, and returns the log. use must return once its context ends, with
// an error when something unexpected happened. Every line must be a kafka client error, and none
// may say that something was cancelled: closing is not an error.
func logUntilFirstLine(t *testing.T, name, addr string, use func(ctx context.Context, c kafkax.Client) (close func(), err error)) string {
	t.Helper()
	logs := &notifyingBuffer{wrote: make(chan struct{})}
	c := kafkax.Plain(addr).WithLogger(slog.New(slog.NewTextHandler(logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		close func()
		err   error
	}
	done := make(chan result, 1)
	go func() { close, err := use(ctx, c); done <- result{close, err} }()
	select {
	case <-logs.wrote:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no log line about the broker that is not there", name)
	}
	cancel()
	res := <-done
	require.NoError(t, res.err, name)
	res.close()
	out := logs.String()
	require.NotContains(t, out, "canceled", "%s: closing is not an error", name)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		require.Contains(t, line, `level=WARN msg="kafka client error" kafka_client=`, name)
	}
	return out
}

// TestUnreachableBrokerLogged checks that the readers and consumer groups of a Client with a
// logger report a broker they cannot reach, which kafka-go retries without a word otherwise.
func TestUnreachableBrokerLogged(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // a port nobody listens on

	out := logUntilFirstLine(t, "reader", addr, func(ctx context.Context, c kafkax.Client) (func(), error) {
		r := c.Reader(kafka.ReaderConfig{Topic: "record-events", Partition: 2, MaxWait: 100 * time.Millisecond})
		closeReader := func() { kafkax.CloseReader(r) }
		if _, err := r.FetchMessage(ctx); !errors.Is(err, context.Canceled) {
			return closeReader, fmt.Errorf("fetch: %v, want the context's end", err)
		}
		return closeReader, nil
	})
	require.Contains(t, out, "kafka_client=reader topic=record-events partition=2 err=")
	require.Contains(t, out, "dial tcp "+addr+": connect: connection refused")

	out = logUntilFirstLine(t, "consumer group", addr, func(ctx context.Context, c kafkax.Client) (func(), error) {
		g, err := c.ConsumerGroup(kafka.ConsumerGroupConfig{ID: "record-usage", Topics: []string{"record-events"}})
		if err != nil {
			return func() {}, err
		}
		for ctx.Err() == nil {
			g.Next(ctx) // fails until ctx ends: the coordinator cannot be reached
		}
		return func() { g.Close() }, nil
	})
	require.Contains(t, out, "kafka_client=consumer_group group=record-usage topics=[record-events] err=")
	require.Contains(t, out, "dial tcp "+addr+": connect: connection refused")
}

// TestWriterErrorLogged checks that a writer of a Client with a logger reports the attempts to
// write that the broker refused. (A writer that cannot reach a broker at all fails its first
// write at once, before any attempt that kafka-go logs.)
func TestWriterErrorLogged(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	topic := kafkax.TopicSpec{Name: "record-usage-hourly", Partitions: 1, ReplicationFactor: 1}
	require.NoError(t, kafkax.Plain(brokers...).EnsureTopics(context.Background(), topic))

	out := logUntilFirstLine(t, "writer", brokers[0], func(ctx context.Context, c kafkax.Client) (func(), error) {
		w := c.Writer(topic.Name, &kafka.Hash{})
		w.BatchTimeout = time.Millisecond
		w.RequiredAcks = 2 // not -1, 0 or 1: refused by the broker
		w.MaxAttempts = 1
		closeWriter := func() { kafkax.CloseWriter(w) }
		err := w.WriteMessages(ctx, kafka.Message{Value: []byte("x")})
		// The write ends with the broker's error, or with the context's when the log line that
		// cancels it came first: both are fine, the log line is what is tested.
		var we kafka.WriteErrors
		if !errors.Is(err, context.Canceled) && (!errors.As(err, &we) || len(we) != 1 || !errors.Is(we[0], kafka.InvalidRequiredAcks)) {
			return closeWriter, fmt.Errorf("write: %v, want the broker's %v", err, kafka.InvalidRequiredAcks)
		}
		return closeWriter, nil
	})
	require.Contains(t, out, `kafka_client=writer topic=record-usage-hourly err="error writing messages to record-usage-hourly (partition 0, attempt 0): [21] Invalid Required Acks`)
}
