package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBoundarySetForms checks that a minute's boundary set answers the same in both of its forms:
// staged (a bitset, while the minute is after the frontier) and sealed (a roaring bitmap), across
// the seal, against a map.
func TestBoundarySetForms(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ring minuteRing
	const frontier = 100
	want := map[int64]map[uint32]bool{}
	check := func() {
		for m := ring.lo; m < ring.end; m++ {
			require.Equal(t, uint64(len(want[m])), ring.cardinality(m), "minute %d", m)
			for id := range want[m] {
				require.True(t, ring.contains(m, id), "minute %d, id %d", m, id)
			}
		}
	}
	op := func(m int64, f int64) {
		id := uint32(r.IntN(5000))
		if want[m] == nil {
			want[m] = map[uint32]bool{}
		}
		if r.IntN(3) == 0 {
			require.Equal(t, want[m][id], ring.remove(m, id), "remove %d from minute %d", id, m)
			delete(want[m], id)
			return
		}
		require.Equal(t, !want[m][id], ring.add(m, f, id), "add %d to minute %d", id, m)
		want[m][id] = true
	}
	for range 20_000 {
		op(frontier-2+int64(r.IntN(6)), frontier) // published minutes and staged ones
	}
	for m := ring.lo; m < ring.end; m++ {
		s := ring.get(m)
		require.Equal(t, m > frontier, s.dense != nil, "minute %d staged", m)
	}
	check()
	for m := int64(frontier + 1); m < ring.end; m++ {
		ring.seal(m) // the frontier passes them
		require.Nil(t, ring.get(m).dense)
	}
	check()
	for range 5_000 {
		op(frontier-2+int64(r.IntN(6)), frontier+10) // all sealed now
	}
	check()
	ring.release(ring.end)
	require.NotEmpty(t, ring.spare, "the bitsets of sealed minutes are kept for the next ones")
	for _, b := range ring.spare {
		for _, w := range b {
			require.Zero(t, w)
		}
	}
	require.True(t, ring.add(ring.end+5, ring.end+4, 7), "a minute after the frontier reuses a slot and a bitset")
	require.NotNil(t, ring.get(ring.end-1).dense)
}

// TestStagedMinutesBounded checks that a backlog whose event times run far ahead of the frontier
// stages at most maxStaged minutes, sealing the oldest early, and that every set keeps its ids.
func TestStagedMinutesBounded(t *testing.T) {
	var ring minuteRing
	const frontier, minutes = 0, 40
	for m := int64(1); m <= minutes; m++ {
		for id := range uint32(100) {
			require.True(t, ring.add(m, frontier, id*7+uint32(m)))
		}
		require.LessOrEqual(t, len(ring.staged), maxStaged)
	}
	require.Equal(t, []int64{33, 34, 35, 36, 37, 38, 39, 40}, ring.staged, "the newest minutes stay staged")
	for m := int64(1); m <= minutes; m++ {
		require.Equal(t, uint64(100), ring.cardinality(m), "minute %d", m)
		require.True(t, ring.contains(m, 99*7+uint32(m)))
		require.False(t, ring.add(m, frontier, 7+uint32(m)), "minute %d already holds the id", m)
		require.Equal(t, m > minutes-maxStaged, ring.get(m).dense != nil, "minute %d", m)
	}
	ring.release(minutes + 1)
	require.Empty(t, ring.staged)
}
