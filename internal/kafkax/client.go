package kafkax

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// dialTimeout bounds a connection to a broker, TLS handshake and SASL exchange included.
const dialTimeout = 10 * time.Second

// Client is how this process reaches Kafka: the bootstrap brokers and the TLS and SASL settings
// every connection uses. It is the one place that builds kafka-go dialers and transports, so a
// reader, writer, consumer group or admin connection cannot forget the security settings.
// A Client is a small value, safe for concurrent use; copies share the parsed TLS and SASL state.
type Client struct {
	brokers []string
	sec     Security
	tls     *tls.Config    // nil: plaintext
	sasl    sasl.Mechanism // nil: no authentication
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

// Reader returns kafka.NewReader(rc) reading from the Client's brokers with its dialer.
func (c Client) Reader(rc kafka.ReaderConfig) *kafka.Reader {
	rc.Brokers, rc.Dialer = c.Brokers(), c.Dialer()
	return kafka.NewReader(rc)
}

// Writer returns a writer of topic to the Client's brokers, with a transport of its own. The
// caller sets the other fields (batching, acks) before the first write. The transport keeps
// the metadata of topic only: by default it would fetch every topic's, every few seconds, and
// copy it out on every write, which costs in proportion to the topics of the cluster.
func (c Client) Writer(topic string, b kafka.Balancer) *kafka.Writer {
	t := c.Transport()
	t.MetadataTopics = []string{topic}
	return &kafka.Writer{Addr: kafka.TCP(c.brokers...), Topic: topic, Balancer: b, Transport: t}
}

// ConsumerGroup returns kafka.NewConsumerGroup(gc) on the Client's brokers with its dialer.
func (c Client) ConsumerGroup(gc kafka.ConsumerGroupConfig) (*kafka.ConsumerGroup, error) {
	gc.Brokers, gc.Dialer = c.Brokers(), c.Dialer()
	return kafka.NewConsumerGroup(gc)
}
