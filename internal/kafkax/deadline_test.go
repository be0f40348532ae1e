package kafkax

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// deadlineConn records the deadlines set on it.
type deadlineConn struct {
	net.Conn
	read, write []time.Time
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.read = append(c.read, t)
	return nil
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.write = append(c.write, t)
	return nil
}

// TestCoalescedDeadlines drives a coalescingConn as kafka-go's Reader does — a near deadline
// for the fetch, then now + 10 s before each message, then none — and checks what reaches the
// connection: the first deadline as asked, later ones once per slack, never earlier than asked
// and at most the slack later; none, and a deadline earlier by more than the slack, as asked;
// write deadlines as asked.
func TestCoalescedDeadlines(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	now := start
	under := &deadlineConn{}
	c := &coalescingConn{Conn: under}

	require.NoError(t, c.SetReadDeadline(now.Add(100*time.Millisecond))) // the fetch's MaxWait
	var asked []time.Time
	for range 1000 { // a message every millisecond for a second
		now = now.Add(time.Millisecond)
		asked = append(asked, now.Add(10*time.Second))
		require.NoError(t, c.SetReadDeadline(asked[len(asked)-1]))
		// What is in force: never earlier than asked, at most the slack later.
		inForce := under.read[len(under.read)-1]
		require.False(t, inForce.Before(asked[len(asked)-1]))
		require.LessOrEqual(t, inForce.Sub(asked[len(asked)-1]), deadlineSlack)
	}
	require.Len(t, under.read, 1+2, "a thousand later deadlines in a second: two reach the connection")
	require.Equal(t, start.Add(100*time.Millisecond), under.read[0], "the first: as asked")

	require.NoError(t, c.SetReadDeadline(now.Add(-time.Second))) // wake a blocked read
	require.Equal(t, now.Add(-time.Second), under.read[len(under.read)-1], "earlier by more than the slack: as asked")
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	require.True(t, under.read[len(under.read)-1].IsZero(), "none: as asked")
	require.NoError(t, c.SetDeadline(now.Add(5*time.Second)))
	require.Equal(t, now.Add(5*time.Second), under.read[len(under.read)-1], "after none: as asked")
	require.NoError(t, c.SetDeadline(now.Add(5*time.Second+time.Millisecond)))
	require.Equal(t, now.Add(5*time.Second+time.Millisecond+deadlineSlack), under.read[len(under.read)-1],
		"later: the slack later")
	require.Equal(t, []time.Time{now.Add(5 * time.Second), now.Add(5*time.Second + time.Millisecond)}, under.write,
		"write deadlines: as asked")
}
