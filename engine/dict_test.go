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
	var recs []recording // by id: the arena offset of its entry, as the engine keeps it
	next := uint32(0)
	for step := range 200_000 {
		key := fmt.Sprintf("key-%d", r.IntN(5000))
		id, ok := d.lookup([]byte(key), recs)
		want, wantOK := ref[key]
		require.Equal(t, wantOK, ok, "step %d key %s", step, key)
		if ok {
			require.Equal(t, want, id)
		}
		switch {
		case !ok:
			recs = append(recs, recording{key: d.insert([]byte(key), next)})
			ref[key] = next
			next++
		case r.IntN(2) == 0:
			d.remove(recs[id].key)
			delete(ref, key)
			recs[id].key = keyNone
		}
		if step%10_000 == 0 {
			d.rewrite(func(id, off uint32) { recs[id].key = off })
		}
	}
	require.Equal(t, len(ref), d.used)
	for key, id := range ref {
		got, ok := d.lookup([]byte(key), recs)
		require.True(t, ok)
		require.Equal(t, id, got)
	}
}
