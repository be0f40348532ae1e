package engine

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSnapshotRoundTripKeepsOpenSessionsAndDictionary(t *testing.T) {
	s := newScenario(t, "2026-11-25T12:00:00Z")
	s.send(start, "2026-11-25T08:00:00Z", "p", "d", "open", "HLS")
	s.send(start, "2026-11-25T08:05:00Z", "p", "d", "closed", "")
	s.send(over, "2026-11-25T08:07:00Z", "p", "d", "closed", "")
	s.send(start, "2026-11-25T09:30:00Z", "q", "e", "x", "")
	s.flush(false)

	snap := s.e.AppendSnapshot(nil)
	e2, err := Restore(DefaultConfig(), func() time.Time { return s.clock }, snap)
	require.NoError(t, err)
	require.Equal(t, s.e.Stats(), e2.Stats())
	require.Equal(t, snap, e2.AppendSnapshot(nil))

	// The same stop, applied to the original and to the restored engine, gives the same results.
	s2 := &scenario{t: t, e: e2, clock: s.clock, out: newCollector(), off: s.off}
	maps.Copy(s2.out.last, s.out.last) // what the results topic held at the checkpoint
	for _, sc := range []*scenario{s, s2} {
		sc.send(over, "2026-11-25T09:45:00Z", "p", "d", "open", "HLS")
		sc.send(start, "2026-11-25T10:30:00Z", "q", "e", "y", "")
		sc.flush(false)
	}
	for _, h := range []string{"2026-11-25T08:00:00Z", "2026-11-25T09:00:00Z"} {
		c1, m1 := s.hour("p", "", h)
		c2, m2 := s2.hour("p", "", h)
		require.Equal(t, c1, c2, h)
		require.Equal(t, m1, m2, h)
	}
	require.Equal(t, s.e.AppendSnapshot(nil), e2.AppendSnapshot(nil))
}

func TestRestoreRejectsDamage(t *testing.T) {
	s := newScenario(t, "2026-11-25T12:00:00Z")
	s.send(start, "2026-11-25T08:00:00Z", "p", "d", "s", "")
	s.flush(false)
	snap := s.e.AppendSnapshot(nil)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": snap[:len(snap)/2],
		"flipped":   append(append([]byte{}, snap[:10]...), append([]byte{snap[10] ^ 1}, snap[11:]...)...),
		"foreign":   []byte("not a snapshot at all"),
	} {
		_, err := Restore(DefaultConfig(), nil, data)
		require.True(t, errors.Is(err, ErrBadSnapshot), "%s: %v", name, err)
	}
}

// FuzzRestore checks that no input makes Restore panic or allocate without bound. The fuzzer's
// input gets a valid checksum, so that the decoder behind it is exercised, not only the CRC.
func FuzzRestore(f *testing.F) {
	s := newScenario(&testing.T{}, "2026-11-25T12:00:00Z")
	s.send(start, "2026-11-25T08:00:00Z", "p", "d", "s", "HLS")
	s.send(over, "2026-11-25T08:07:00Z", "p", "d", "s", "HLS")
	s.send(start, "2026-11-25T09:30:00Z", "q", "e", "x", "")
	s.flush(false)
	f.Add(s.e.AppendSnapshot(nil))
	for _, version := range []int{1, 2} { // the older formats' read paths (snapshot_compat_test.go)
		f.Add(readOlderSnapshot(f, version).Snapshot)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= len(snapshotMagic)+4 {
			data = append([]byte(snapshotMagic), data[len(snapshotMagic):len(data)-4]...)
			data = binary.LittleEndian.AppendUint32(data, crc32.Checksum(data, castagnoli))
		}
		e, err := Restore(DefaultConfig(), func() time.Time { return time.Unix(1764072000, 0) }, data)
		if err == nil {
			_ = e.AppendSnapshot(nil)
		}
	})
}
