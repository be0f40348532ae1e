package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/results"
)

// olderSnapshot is a checkpoint written by an earlier version of the engine, in
// testdata/snapshot-vN.json: the arrivals of a property-test event set (all of them, the first
// Cut applied by the old engine, which accepted those marked Accepted), the old engine's clock
// then, the results it had published (the last record of each hour, as the compacted topic
// holds them) and its snapshot.
type olderSnapshot struct {
	Version  int
	Arrivals []struct {
		Event    reference.Event
		At       int64
		Accepted bool
	}
	Cut      int
	Clock    int64
	Records  []results.Record
	Snapshot []byte
}

// readOlderSnapshot reads testdata/snapshot-v<version>.json.
func readOlderSnapshot(tb testing.TB, version int) olderSnapshot {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("testdata/snapshot-v%d.json", version))
	require.NoError(tb, err)
	var g olderSnapshot
	require.NoError(tb, json.Unmarshal(data, &g))
	require.Equal(tb, version, g.Version)
	return g
}

// TestRestoreOlderSnapshots is an upgrade across snapshot formats: versions 1 and 2 (before
// issue 10's engine, which writes version 3 and derives the per-minute state from the
// histories) were written by the engine of their time, after it had read half of an event set.
// The current engine restores the old checkpoint, with the results topic as the old one left
// it, reads the rest, and every hour, zeros included, must match the reference model of all
// the accepted events: first with the frontier where the events leave it, then once the wall
// clock has moved three hours on and everything is published. No hour that the old engine
// published as final may be published again (the collector panics).
func TestRestoreOlderSnapshots(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("version %d", version), func(t *testing.T) {
			g := readOlderSnapshot(t, version)
			require.Equal(t, version, int(g.Snapshot[len(snapshotMagic)]), "the snapshot's own version byte")

			cfg := DefaultConfig()
			clock := g.Clock
			e, err := Restore(cfg, func() time.Time { return time.Unix(0, clock) }, g.Snapshot)
			require.NoError(t, err)
			c := newCollector()
			for _, r := range g.Records {
				c.last[reference.Key(r.ProjectID, r.Domain, r.Hour)] = r
			}

			var accepted []reference.Event
			rule := lateRule{cfg: cfg}
			for _, a := range g.Arrivals[:g.Cut] {
				require.Equal(t, a.Accepted, rule.accept(a.Event.Time), "the old engine's verdict on %+v", a.Event)
				if a.Accepted {
					accepted = append(accepted, a.Event)
				}
			}
			for i := g.Cut; i < len(g.Arrivals); i++ {
				a := g.Arrivals[i]
				clock = max(clock, a.At)
				if applyChecked(t, e, &rule, a.Event) {
					accepted = append(accepted, a.Event)
				}
				if i%8 == 7 {
					e.Flush(i%16 == 15, c.emit)
				}
			}
			e.Flush(false, c.emit)
			require.Greater(t, len(accepted), g.Cut, "the second half was applied")
			requireMatches(t, e, accepted, c)

			clock += int64(3 * time.Hour)
			e.Flush(true, c.emit)
			requireMatches(t, e, accepted, c)
		})
	}
}
