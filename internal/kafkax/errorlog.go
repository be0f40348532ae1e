package kafkax

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// The errors kafka-go handles itself.
//
// kafka-go's readers, writers and consumer groups retry most errors quietly: a broker that cannot
// be reached, a fetch that fails, a failed authentication while reconnecting, a partition whose
// leader moved, a consumer group that cannot reach its coordinator. They report them only to their
// ErrorLogger, and without one an outage shows as a service that stops making progress without a
// word. A Client with a logger (WithLogger) gives every reader, writer and consumer group it makes
// an ErrorLogger that logs those messages at warn level, naming the component, and rate-limited:
// a broker that is down is retried every few milliseconds to a second, by every partition's
// reader, and one line per kind of message and interval says as much as thousands. kafka-go's
// info Logger is left unset: it logs every connection and seek.
//
// The rate limiter tells messages apart by component and kafka-go's format string, not by the
// formatted text: that holds the local port of each new connection, the attempt number of a
// write and the offset of a fetch, so a failure repeated on every reconnection would never look
// the same twice.

// errorLogInterval is the least time between two log lines of the same kind from a component;
// the repeats in between are counted and the count is logged with the next line.
const errorLogInterval = 10 * time.Second

// errorLogKinds bounds the kinds of messages the rate limiter remembers: kafka-go has about a
// dozen formats per component, and a reader is a component per partition.
const errorLogKinds = 1024

// errorLog is where a Client's readers, writers and consumer groups send kafka-go's error
// messages: the process's logger and the rate limiter they all share. A nil *errorLog logs
// nothing.
type errorLog struct {
	log   *slog.Logger
	limit *repeatLimiter
}

// newErrorLog returns the errorLog of log, nil when log is nil.
func newErrorLog(log *slog.Logger, now func() time.Time) *errorLog {
	if log == nil {
		return nil
	}
	return &errorLog{log: log, limit: newRepeatLimiter(errorLogInterval, errorLogKinds, now)}
}

// forComponent returns the kafka.Logger of one reader, writer or consumer group, which attrs
// name (a "kafka_client" attribute and its topic, partition or group); nil when e is nil, which
// leaves kafka-go's ErrorLogger unset.
func (e *errorLog) forComponent(attrs ...any) kafka.Logger {
	if e == nil {
		return nil
	}
	return &componentLog{log: e.log.With(attrs...), limit: e.limit, key: fmt.Sprintf("%v\x00", attrs)}
}

// componentLog is the kafka.Logger of one component. kafka-go calls it from its own goroutines.
type componentLog struct {
	log   *slog.Logger
	limit *repeatLimiter
	key   string // the component's prefix of the rate limiter's keys
}

// Printf logs one kafka-go error message at warn level (debug for a fetch that timed out), unless
// it is noise or a message of the same kind was logged less than errorLogInterval ago.
func (c *componentLog) Printf(format string, args ...any) {
	level, log := classify(format, args)
	if !log || !c.log.Enabled(context.Background(), level) {
		return
	}
	msg := strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
	if noiseText(msg) {
		return
	}
	ok, suppressed := c.limit.allow(c.key + level.String() + "\x00" + format)
	if !ok {
		return
	}
	if suppressed > 0 {
		c.log.Log(context.Background(), level, "kafka client error", "err", msg, "suppressed", suppressed)
		return
	}
	c.log.Log(context.Background(), level, "kafka client error", "err", msg)
}

// fetchErrorFormat is kafka-go's message for an error of a partition reader's fetch (reader.go),
// after which it reconnects at once.
const fetchErrorFormat = "the kafka reader got an unknown error reading partition %d of %s at offset %d: %s"

// classify says whether, and at which level, a message is logged, from the errors among its
// arguments. These are not logged:
//   - context.Canceled: the component is being closed (a reader's lag poll or a dial under way
//     when the reader closes), which every clean shutdown does;
//   - kafka.RebalanceInProgress: the coordinator asks the members to rejoin, which every
//     rebalance does; kafka-go rejoins at once and ConsumerGroup.Next returns the error too, so
//     the caller sees it when it persists.
//
// A fetch whose answer did not come in time is logged at debug level: kafka-go gives the broker
// a quarter of the reader's MaxWait beyond it (125 ms at FetchMaxWait), which a loaded broker or
// process overruns now and then, and the reader reconnects at once. A broker that stops
// answering fails the reconnection too, which is logged at warn level. Every other message is
// logged at warn level.
func classify(format string, args []any) (slog.Level, bool) {
	level := slog.LevelWarn
	for _, a := range args {
		err, ok := a.(error)
		if !ok {
			continue
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, kafka.RebalanceInProgress) {
			return 0, false
		}
		var ne net.Error
		if format == fetchErrorFormat && errors.As(err, &ne) && ne.Timeout() {
			level = slog.LevelDebug
		}
	}
	return level, true
}

// noiseText is classify's context.Canceled for a message whose error reached it as text only
// (formatted into another error with %v rather than wrapped).
func noiseText(msg string) bool {
	return strings.Contains(msg, context.Canceled.Error())
}

// repeatLimiter lets a kind of message through at most once per interval and counts the
// repeats it holds back. It remembers at most max kinds.
type repeatLimiter struct {
	interval time.Duration
	max      int
	now      func() time.Time

	mu struct {
		sync.Mutex
		seen map[string]repeat // guarded by mu: the kinds let through, by key
	}
}

// repeat is what the limiter remembers of a kind of message.
type repeat struct {
	logged     time.Time // when it was last let through
	suppressed int       // repeats held back since
}

func newRepeatLimiter(interval time.Duration, max int, now func() time.Time) *repeatLimiter {
	l := &repeatLimiter{interval: interval, max: max, now: now}
	l.mu.seen = make(map[string]repeat)
	return l
}

// allow reports whether a message of kind key may be logged now and, if so, how many repeats
// were held back since it was last logged.
func (l *repeatLimiter) allow(key string) (ok bool, suppressed int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	r, seen := l.mu.seen[key]
	switch {
	case seen && now.Sub(r.logged) < l.interval:
		r.suppressed++
		l.mu.seen[key] = r
		return false, 0
	case !seen && len(l.mu.seen) >= l.max:
		l.forgetLocked(now)
	}
	l.mu.seen[key] = repeat{logged: now}
	return true, r.suppressed
}

// forgetLocked makes room for a kind: it forgets the kinds last logged an interval ago or more,
// which would be let through anyway (only the count of their repeats since is lost), and the one
// logged longest ago when all are more recent.
func (l *repeatLimiter) forgetLocked(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for key, r := range l.mu.seen {
		switch {
		case now.Sub(r.logged) >= l.interval:
			delete(l.mu.seen, key)
		case oldestAt.IsZero() || r.logged.Before(oldestAt):
			oldest, oldestAt = key, r.logged
		}
	}
	if len(l.mu.seen) >= l.max {
		delete(l.mu.seen, oldest)
	}
}

// Failures logs a run of failures of one repeated operation, such as a partition's fetches that
// kafka-go retries by itself (logging why, rate-limited, through the Client's logger): the first
// failure of a run at warn level, the others at debug, and the first success after them at info.
// The zero value is ready; it belongs to one goroutine.
type Failures struct{ n int }

// Failed logs a failure of the operation that msg describes; err is the error or a short form of
// it.
func (f *Failures) Failed(ctx context.Context, log *slog.Logger, msg string, err any) {
	f.n++
	level := slog.LevelDebug
	if f.n == 1 {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, msg, "err", err, "failures_in_a_row", f.n)
}

// Succeeded ends a run of failures, if any, saying so with msg.
func (f *Failures) Succeeded(log *slog.Logger, msg string) {
	if f.n > 0 {
		log.Info(msg, "failures_in_a_row", f.n)
		f.n = 0
	}
}
