package peers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDuckDBMatchesReference checks the DuckDB peer's SQL against the reference model of
// CONTRACT.md §3 on a small workload, hour by hour. It needs python with the duckdb module
// (scripts/peers.sh installs one); without it the test is skipped.
func TestDuckDBMatchesReference(t *testing.T) {
	cfg := DefaultConfig()
	if py := os.Getenv("RECORD_PEERS_PYTHON"); py != "" {
		cfg.Python = py
	}
	if err := exec.Command(cfg.Python, "-c", "import duckdb").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no python with duckdb at %s: .ci/run installs it (scripts/peers.sh --install-only): %v", cfg.Python, err)
		}
		t.Skipf("no python with duckdb at %s (scripts/peers.sh installs it): %v", cfg.Python, err)
	}
	f := func(seed uint64, projects, events int, span time.Duration, dup, bad float64) {
		t.Helper()
		cfg.Seed, cfg.Projects, cfg.Events, cfg.Span, cfg.DupShare, cfg.BadShare = seed, projects, events, span, dup, bad
		end := time.Date(2026, 11, 25, 7, 20, 0, 0, time.UTC)
		w := Generate(cfg, end)
		dir := t.TempDir()
		path := filepath.Join(dir, "events.ndjson")
		require.NoError(t, w.WriteFile(path))
		frontier := end.Unix() / 60
		res, err := RunDuckDB(context.Background(), cfg.Python, dir, path, frontier)
		require.NoError(t, err)
		want := ReferenceTable(w.Good, frontier)
		require.NotEmpty(t, want)
		if ms := Compare(w.Range, res.Table.Within(w.Range), want); len(ms) > 0 {
			t.Fatal(MismatchError("duckdb against the reference model", ms))
		}
	}
	f(1, 5, 2_000, 3*time.Hour, 0.05, 0.05)
	f(2, 20, 20_000, 6*time.Hour, 0.10, 0.02)
	f(3, 2, 5_000, 2*time.Hour, 0.2, 0.1) // dense: many overlapping sessions, stops without start
}
