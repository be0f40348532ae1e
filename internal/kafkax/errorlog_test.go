package kafkax

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestRepeatLimiter(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	l := newRepeatLimiter(10*time.Second, 100, clock.now)
	allow := func(msg string, wantOK bool, wantSuppressed int) {
		t.Helper()
		ok, suppressed := l.allow(msg)
		require.Equal(t, wantOK, ok, msg)
		require.Equal(t, wantSuppressed, suppressed, msg)
	}

	allow("a", true, 0) // the first is logged
	for range 5 {
		clock.advance(time.Second)
		allow("a", false, 0) // repeats within the interval are held back
	}
	allow("b", true, 0) // another message is independent
	clock.advance(5 * time.Second)
	allow("a", true, 5)  // 10 s after the first: logged with the count held back
	allow("a", false, 0) // and held back again
	allow("b", false, 0) // b was logged 5 s ago
	clock.advance(5 * time.Second)
	allow("b", true, 1)
	clock.advance(time.Minute)
	allow("a", true, 1) // the count is kept however long the message is quiet
	allow("c", true, 0)
}

func TestRepeatLimiterBounded(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	l := newRepeatLimiter(10*time.Second, 4, clock.now)
	for i := range 4 {
		ok, _ := l.allow(fmt.Sprint("old ", i))
		require.True(t, ok)
		clock.advance(time.Second)
	}
	// Full, with every message logged within the interval: the one logged longest ago goes.
	ok, _ := l.allow("new 0")
	require.True(t, ok)
	require.Len(t, l.mu.seen, 4)
	require.NotContains(t, l.mu.seen, "old 0")
	ok, _ = l.allow("old 1")
	require.False(t, ok, "still remembered")

	// Once messages are an interval old they all go to make room, not only one.
	clock.advance(10 * time.Second)
	for i := range 1000 {
		ok, _ := l.allow(fmt.Sprint("storm ", i))
		require.True(t, ok)
		require.LessOrEqual(t, len(l.mu.seen), 4)
	}
	ok, _ = l.allow("storm 999")
	require.False(t, ok, "the latest are remembered")
}

// logTo returns an errorLog writing text lines of level and above to buf, with clock as its
// clock.
func logTo(buf *bytes.Buffer, level slog.Level, clock *fakeClock) *errorLog {
	return newErrorLog(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level})), clock.now)
}

// takeLines returns the lines of buf and empties it.
func takeLines(buf *bytes.Buffer) []string {
	out := strings.TrimSpace(buf.String())
	buf.Reset()
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestComponentLog(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	el := logTo(&buf, slog.LevelInfo, clock)
	reader := el.forComponent("kafka_client", "reader", "topic", "record-events", "partition", 3)
	writer := el.forComponent("kafka_client", "writer", "topic", "record-usage-hourly")
	refused := fmt.Errorf("failed to dial: %w", errors.New("connect: connection refused"))

	for i := range 100 { // a broker outage retried every few milliseconds
		reader.Printf("error initializing the kafka reader for partition %d of %s: %s", 3, "record-events", refused)
		writer.Printf("error writing messages to %s (partition %d, attempt %d): %s", "record-usage-hourly", 0, i%5, refused)
		clock.advance(5 * time.Millisecond)
	}
	got := takeLines(&buf)
	require.Len(t, got, 2, "one line per component and kind of message")
	require.Contains(t, got[0], `level=WARN msg="kafka client error" kafka_client=reader topic=record-events partition=3 `+
		`err="error initializing the kafka reader for partition 3 of record-events: failed to dial: connect: connection refused"`)
	require.NotContains(t, got[0], "suppressed")
	require.Contains(t, got[1], `kafka_client=writer topic=record-usage-hourly err="error writing messages to record-usage-hourly (partition 0, attempt 0)`)

	clock.advance(10 * time.Second)
	reader.Printf("error initializing the kafka reader for partition %d of %s: %s", 3, "record-events", errors.New("another error"))
	writer.Printf("error writing messages to %s (partition %d, attempt %d): %s", "record-usage-hourly", 0, 3, refused)
	got = takeLines(&buf)
	require.Len(t, got, 2)
	require.Contains(t, got[0], `kafka_client=reader topic=record-events partition=3 err="error initializing the kafka reader for partition 3 of record-events: another error" suppressed=99`)
	require.Contains(t, got[1], `(partition 0, attempt 3): failed to dial: connect: connection refused" suppressed=99`)

	// The same message from another component is its own.
	group := el.forComponent("kafka_client", "consumer_group", "group", "record-usage", "topics", []string{"record-events"})
	group.Printf("Failed to join group %s: %v", "record-usage", refused)
	group.Printf("Failed to join group %s: %v", "record-usage", refused)
	other := el.forComponent("kafka_client", "consumer_group", "group", "other", "topics", []string{"record-events"})
	other.Printf("Failed to join group %s: %v", "record-usage", refused)
	got = takeLines(&buf)
	require.Len(t, got, 2)
	require.Contains(t, got[0], `group=record-usage topics=[record-events] err="Failed to join group record-usage: failed to dial`)
	require.Contains(t, got[1], "group=other")

	// kafka-go's messages with a newline are one line.
	group.Printf("Problem getting partitions during startup, %v\n, Returning and setting up nextGeneration", refused)
	got = takeLines(&buf)
	require.Len(t, got, 1)
	require.Contains(t, got[0], `err="Problem getting partitions during startup, failed to dial: connect: connection refused , Returning`)
}

// TestComponentLogNoise checks that what every clean shutdown and rebalance makes kafka-go
// report is not logged, and a fetch that timed out only at debug level.
func TestComponentLogNoise(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	reader := logTo(&buf, slog.LevelDebug, clock).forComponent("kafka_client", "reader", "topic", "t", "partition", 0)
	f := func(format string, args ...any) {
		t.Helper()
		reader.Printf(format, args...)
		require.Empty(t, buf.String(), format)
	}
	// A reader closed while it polls its lag or dials.
	f("kafka reader failed to read lag of partition %d of %s: %s", 0, "t", context.Canceled)
	f("error initializing the kafka reader for partition %d of %s: %s", 0, "t",
		fmt.Errorf("failed to dial: %w", fmt.Errorf("failed to open connection to 127.0.0.1:9092: %w", context.Canceled)))
	f("the kafka reader got an unknown error reading partition %d of %s at offset %d: %s", 0, "t", 7,
		errors.New("flattened: context canceled"))
	// A rebalance.
	f("Failed to sync group %s: %v", "g", kafka.RebalanceInProgress)

	// A deadline is not a shutdown.
	reader.Printf("kafka reader failed to read lag of partition %d of %s: %s", 0, "t", context.DeadlineExceeded)
	got := takeLines(&buf)
	require.Len(t, got, 1)
	require.Contains(t, got[0], "level=WARN")
	require.Contains(t, got[0], "context deadline exceeded")

	// A fetch answered too late: debug, and rate-limited apart from the fetch's other errors.
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for range 3 {
		reader.Printf(fetchErrorFormat, 0, "t", 7, timeout)
	}
	reader.Printf(fetchErrorFormat, 0, "t", 7, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	got = takeLines(&buf)
	require.Len(t, got, 2)
	require.Contains(t, got[0], `level=DEBUG msg="kafka client error" kafka_client=reader topic=t partition=0 err="the kafka reader got an unknown error reading partition 0 of t at offset 7: read tcp: i/o timeout"`)
	require.Contains(t, got[1], `level=WARN msg="kafka client error" kafka_client=reader topic=t partition=0 err="the kafka reader got an unknown error reading partition 0 of t at offset 7: read tcp: connection reset by peer"`)

	// A timeout elsewhere is a warning: the reader could not reconnect.
	reader.Printf("error initializing the kafka reader for partition %d of %s: %s", 0, "t", timeout)
	got = takeLines(&buf)
	require.Len(t, got, 1)
	require.Contains(t, got[0], "level=WARN")
}

// TestErrorLoggerWiring checks which readers and writers of a Client get an ErrorLogger: those
// of a Client with a logger, unless the caller set one of its own.
func TestErrorLoggerWiring(t *testing.T) {
	errorLogger := func(c Client, rc kafka.ReaderConfig) kafka.Logger {
		r := c.Reader(rc)
		defer r.Close()
		return r.Config().ErrorLogger
	}
	require.Nil(t, newErrorLog(nil, time.Now).forComponent("kafka_client", "writer"))
	c := Plain("127.0.0.1:1")
	require.Nil(t, errorLogger(c, kafka.ReaderConfig{Topic: "t"}), "no logger: nothing logged")
	require.Nil(t, c.Writer("t", &kafka.Hash{}).ErrorLogger)
	require.Nil(t, c.WithLogger(nil).Writer("t", &kafka.Hash{}).ErrorLogger)

	lc := c.WithLogger(slog.New(slog.DiscardHandler))
	require.IsType(t, &componentLog{}, errorLogger(lc, kafka.ReaderConfig{Topic: "t"}))
	require.IsType(t, &componentLog{}, lc.Writer("t", &kafka.Hash{}).ErrorLogger)
	own := kafka.LoggerFunc(func(string, ...any) {})
	require.IsType(t, own, errorLogger(lc, kafka.ReaderConfig{Topic: "t", ErrorLogger: own}), "the caller's own is kept")
	require.Nil(t, c.Writer("t", &kafka.Hash{}).ErrorLogger, "WithLogger returned a copy")
}

// TestFailures: a run of failures is logged at warn level once, then at debug, and its end at
// info; the next run starts again at warn.
func TestFailures(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	var f Failures
	f.Succeeded(log, "works again") // no run: nothing
	for range 3 {
		f.Failed(context.Background(), log, "fetch failed", errors.New("broker down"))
	}
	f.Succeeded(log, "works again")
	f.Failed(context.Background(), log, "fetch failed", "short form")
	require.Equal(t, `level=WARN msg="fetch failed" err="broker down" failures_in_a_row=1
level=DEBUG msg="fetch failed" err="broker down" failures_in_a_row=2
level=DEBUG msg="fetch failed" err="broker down" failures_in_a_row=3
level=INFO msg="works again" failures_in_a_row=3
level=WARN msg="fetch failed" err="short form" failures_in_a_row=1
`, buf.String())
}
