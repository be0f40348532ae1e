package kafkax

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// dialTimeout bounds a connection to a broker, TLS handshake and SASL exchange included.
const dialTimeout = 10 * time.Second

// Client is how this process reaches Kafka: the bootstrap brokers and the TLS and SASL settings
// every connection uses. It is the one place that builds kafka-go dialers and transports, so a
// reader, writer, consumer group or admin connection cannot forget the security settings.
// A Client is a small value, safe for concurrent use; copies share the parsed TLS and SASL state
// and the error log (WithLogger).
type Client struct {
	brokers []string
	sec     Security
	tls     *tls.Config    // nil: plaintext
	sasl    sasl.Mechanism // nil: no authentication
	errLog  *errorLog      // nil: kafka-go's errors are not logged
}

// NewClient validates sec, reads its certificate files and returns a Client for brokers.
func NewClient(brokers []string, sec Security) (Client, error) {
	if len(brokers) == 0 {
		return Client{}, errors.New("kafkax: no brokers")
	}
	if err := sec.Validate(); err != nil {
		return Client{}, err
	}
	tc, err := sec.tlsConfig()
	if err != nil {
		return Client{}, err
	}
	m, err := sec.mechanism()
	if err != nil {
		return Client{}, err
	}
	return Client{brokers: append([]string(nil), brokers...), sec: sec, tls: tc, sasl: m}, nil
}

// Plain returns a Client for brokers that speak plaintext without authentication, such as the
// embedded broker and the test brokers.
func Plain(brokers ...string) Client { return Client{brokers: append([]string(nil), brokers...)} }

// WithLogger returns a copy of c whose readers, writers and consumer groups log the errors that
// kafka-go handles and retries by itself (an unreachable broker, a failed fetch or
// authentication, a moved leader) to log at warn level: each kind of message at most once every
// ten seconds per component, with the count of repeats held back, and without what every clean
// shutdown and rebalance reports (errorlog.go). The copies of the result share one rate limiter.
// A Client without a logger (nil log, or none set) logs none of them: like everything here it
// does not fall back on a global logger.
func (c Client) WithLogger(log *slog.Logger) Client {
	c.errLog = newErrorLog(log, time.Now)
	return c
}

// Brokers returns the bootstrap brokers.
func (c Client) Brokers() []string { return append([]string(nil), c.brokers...) }

// Security returns the settings the Client was made with.
func (c Client) Security() Security { return c.sec }

// Dialer returns a new dialer with the Client's TLS and SASL settings, for kafka.Conn, readers
// and consumer groups. It is kafka-go's default dialer otherwise, except that its connections
// coalesce far read deadlines (deadline.go).
func (c Client) Dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: dialTimeout, DialFunc: dialCoalescing, TLS: c.tls, SASLMechanism: c.sasl}
}

// Transport returns a new transport with the Client's TLS and SASL settings, for writers. Each
// call returns a transport of its own: kafka-go's shared default transport caches topic
// metadata, and a topic created a moment ago would look unknown to it for seconds.
func (c Client) Transport() *kafka.Transport {
	return &kafka.Transport{DialTimeout: dialTimeout, TLS: c.tls, SASL: c.sasl}
}

// FetchMaxWait is the MaxWait of the readers of partitions that are read while caught up (ingest's
// input, query's results). A caught-up reader's fetch waits at the broker for new messages, and a
// new message ends the wait at once, so it costs no latency. kafka-go asks the broker to answer
// within three quarters of MaxWait and drops the connection when the answer is not read within
// MaxWait. At 100 ms that left 25 ms, which a loaded process overran now and then (over a hundred
// times in one run of the ingest tests under the race detector), each time reconnecting, with a
// new TLS handshake and SASL exchange. At 500 ms, the Java consumer's default fetch.max.wait.ms,
// the margin is 125 ms, and an idle partition costs the broker two fetches a second instead of
// ten. It also bounds how long closing a reader waits for the fetch in flight.
const FetchMaxWait = 500 * time.Millisecond

// Reader returns kafka.NewReader(rc) reading from the Client's brokers with its dialer, and
// logging kafka-go's errors to the Client's logger unless rc has an ErrorLogger.
func (c Client) Reader(rc kafka.ReaderConfig) *kafka.Reader {
	rc.Brokers, rc.Dialer = c.Brokers(), c.Dialer()
	if rc.ErrorLogger == nil {
		rc.ErrorLogger = c.errLog.forComponent("kafka_client", "reader", "topic", rc.Topic, "partition", rc.Partition)
	}
	return kafka.NewReader(rc)
}

// Writer returns a writer of topic to the Client's brokers, with a transport of its own. The
// caller sets the other fields (batching, acks) before the first write. The transport keeps
// the metadata of topic only: by default it would fetch every topic's, every few seconds, and
// copy it out on every write, which costs in proportion to the topics of the cluster. The
// writer logs kafka-go's errors to the Client's logger.
func (c Client) Writer(topic string, b kafka.Balancer) *kafka.Writer {
	t := c.Transport()
	t.MetadataTopics = []string{topic}
	return &kafka.Writer{Addr: kafka.TCP(c.brokers...), Topic: topic, Balancer: b, Transport: t,
		ErrorLogger: c.errLog.forComponent("kafka_client", "writer", "topic", topic)}
}

// ConsumerGroup returns kafka.NewConsumerGroup(gc) on the Client's brokers with its dialer,
// logging kafka-go's errors to the Client's logger unless gc has an ErrorLogger.
func (c Client) ConsumerGroup(gc kafka.ConsumerGroupConfig) (*kafka.ConsumerGroup, error) {
	gc.Brokers, gc.Dialer = c.Brokers(), c.Dialer()
	if gc.ErrorLogger == nil {
		gc.ErrorLogger = c.errLog.forComponent("kafka_client", "consumer_group", "group", gc.ID, "topics", gc.Topics)
	}
	return kafka.NewConsumerGroup(gc)
}
