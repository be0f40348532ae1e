package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDictionaryMatchesMap drives the dictionary and a Go map with the same random inserts,
// removals and compactions, and checks every lookup.
func TestDictionaryMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d := newDictionary()
	ref := map[string]uint32{}
	offs := map[uint32]uint32{} // id → arena offset
	next := uint32(0)
	for step := range 200_000 {
		key := fmt.Sprintf("key-%d", r.IntN(5000))
		id, ok := d.lookup([]byte(key))
		want, wantOK := ref[key]
		require.Equal(t, wantOK, ok, "step %d key %s", step, key)
		if ok {
			require.Equal(t, want, id)
		}
		switch {
		case !ok:
			offs[next] = d.insert([]byte(key), next)
			ref[key] = next
			next++
		case r.IntN(2) == 0:
			d.remove(offs[id])
			delete(ref, key)
			delete(offs, id)
		}
		if step%10_000 == 0 {
			d.rewrite(func(id, off uint32) { offs[id] = off })
		}
	}
	require.Equal(t, len(ref), d.used)
	for key, id := range ref {
		got, ok := d.lookup([]byte(key))
		require.True(t, ok)
		require.Equal(t, id, got)
	}
}
