package kafkax

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process Kafka-protocol broker (franz-go's kfake). It keeps everything in
// memory: it is for trying the product out and for fast tests, never for production data.
type Embedded struct {
	cluster *kfake.Cluster
	Addr    string
}

// StartEmbedded starts the in-memory broker listening on addr (host:port).
func StartEmbedded(addr string) (*Embedded, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafkax: embedded broker address %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("kafkax: embedded broker port %q: %w", port, err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(p))
	if err != nil {
		return nil, fmt.Errorf("kafkax: start the embedded broker on %s: %w", addr, err)
	}
	return &Embedded{cluster: c, Addr: c.ListenAddrs()[0]}, nil
}

// Close stops the broker; its data is gone.
func (e *Embedded) Close() { e.cluster.Close() }
