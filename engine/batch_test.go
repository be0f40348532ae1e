package engine

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPrefetchWrongCandidate checks that the prefetch passes survive a candidate whose hash bits
// match a queued key but whose key is another, shorter one at the end of the arena: the guess
// must not read past the arena.
func TestPrefetchWrongCandidate(t *testing.T) {
	s := newScenario(t, "2026-11-25T12:00:00Z")
	s.send(start, "2026-11-25T11:10:00Z", "p", "d", "s", "")
	s.flush(true)
	e := s.e
	id := uint32(0)
	key := e.dict.keyAt(e.recs[id].key)
	long := bytes.Repeat([]byte("x"), 4096)
	e.batch.keys = append(e.batch.keys[:0], long...)
	q := []queued{{keyOff: 0, keyLen: uint32(len(long))}}
	require.NotPanics(t, func() { e.prefetchWith(q, func([]byte) uint32 { return e.dict.hash(key) }) })
	require.Equal(t, id, q[0].id, "the candidate is the recording with the same hash bits")
	e.batch.keys = e.batch.keys[:0]
}

// TestQueueIsInvisible checks that the methods that read the state see the queued events.
func TestQueueIsInvisible(t *testing.T) {
	s := newScenario(t, "2026-11-25T12:00:00Z")
	s.send(start, "2026-11-25T11:10:00Z", "p", "d", "s", "")
	s.send(start, "2026-11-25T11:10:00Z", "p", "d", "s", "") // a duplicate
	s.send(start, "2026-11-25T11:20:00Z", "p", "d", "t", "")
	require.Equal(t, uint64(1), s.e.Stats().Duplicates)
	recordings, series := s.e.Held()
	require.Equal(t, 2, recordings)
	require.Equal(t, 2, series)
	s.send(start, "2026-11-25T11:30:00Z", "p", "d", "u", "")
	recordings, _ = s.e.Held()
	require.Equal(t, 3, recordings)
}
