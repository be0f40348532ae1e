package kafkax

import (
	"context"
	"net"
	"sync"
	"time"
)

// Read deadlines coalesced.
//
// kafka-go's Reader moves the read deadline of its connection before every message it takes
// from a fetched batch (to now + ReadBatchTimeout, 10 s), and every move re-arms a runtime timer
// under a lock: a fifth of the reader's CPU time in bench/peers, for a deadline that only guards
// against a broker that stops answering. The connections of the Client's dialer therefore arm a
// later read deadline deadlineSlack later than asked, and do not pass on a request that the armed
// deadline covers within the slack. The read deadline in force is never earlier than the last
// one asked for and at most deadlineSlack later; it is exactly the one asked for when the
// connection had none or the new one is earlier than the armed one by more than the slack (a
// deadline in the past that wakes a blocked read, a fetch's MaxWait after a batch). Nothing here
// reads the clock (time.Now costs more than the timer on some virtual machines). Write
// deadlines are passed on as they are.

// deadlineSlack bounds how much later than asked a read deadline may be.
const deadlineSlack = 500 * time.Millisecond

// coalescingConn is a connection whose read deadlines are coalesced.
type coalescingConn struct {
	net.Conn
	mu    sync.Mutex
	armed time.Time // the read deadline set on Conn; zero when none
}

// dialCoalescing dials like net.Dialer and wraps the connection.
func dialCoalescing(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &coalescingConn{Conn: conn}, nil
}

func (c *coalescingConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setReadDeadline(t)
}

func (c *coalescingConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.setReadDeadline(t)
}

func (c *coalescingConn) setReadDeadline(t time.Time) error {
	switch {
	case t.IsZero() || c.armed.IsZero() || t.Before(c.armed.Add(-deadlineSlack)):
		c.armed = t // none, the first, or earlier by more than the slack: exactly
	case !t.After(c.armed):
		return nil // covered: the armed deadline is at most the slack later
	default:
		c.armed = t.Add(deadlineSlack) // later: covers the requests of the next slack
	}
	return c.Conn.SetReadDeadline(c.armed)
}
