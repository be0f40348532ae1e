package peers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Config shapes a run of the side-by-side benchmark. Start from DefaultConfig.
type Config struct {
	// Brokers is the Kafka cluster (required); the run creates topics named after RunID.
	Brokers []string
	// Python runs the DuckDB peer; it needs the duckdb module (scripts/peers.sh installs it in
	// a venv). Default: ~/.cache/recordusage-bench/venv/bin/python.
	Python string
	// Dir holds the events file and the peer's output (default: a new temporary directory,
	// removed at the end).
	Dir string
	// RunID names the topics and groups of the run (default: random).
	RunID string

	// The workload (internal/workload): about Events good events (start and stop pairs) of
	// Projects projects over Span, delivered up to MaxDelay out of order, with DupShare exact
	// duplicates and BadShare bad messages; every session closed. The defaults give 536 k
	// messages: 200 projects, 30 hours, 5% duplicates, 2% bad.
	Seed              uint64
	Projects, Events  int
	Span, MaxDelay    time.Duration
	DupShare          float64
	BadShare          float64
	Partitions        int // of the events topic (default 6, as ingest creates it)
	ResultsPartitions int // of the results topic (default 3, as ingest creates it)

	// Runs is how many times each system computes the table (default 3); the medians are
	// reported.
	Runs int
	// Timeout bounds one pipeline run (default 2 minutes).
	Timeout time.Duration
	// SkipDuckDB runs our pipeline only, checked against the reference model (slow for large
	// workloads) instead of against DuckDB.
	SkipDuckDB bool
	// TopicsExist creates each run's checkpoint and dead-letter topics (empty) before ingest
	// starts, as they are on every start but the first of a deployment. By default ingest
	// creates them, inside the timed run, as on a first start.
	TopicsExist bool
}

// DefaultConfig returns the case: 536 k messages, 200 projects, 30 hours.
func DefaultConfig() Config {
	py := ""
	if home, err := os.UserHomeDir(); err == nil {
		py = filepath.Join(home, ".cache", "recordusage-bench", "venv", "bin", "python")
	}
	return Config{
		Python: py, Seed: 10, Projects: 200, Events: 500_000, Span: 30 * time.Hour, MaxDelay: 10 * time.Minute,
		DupShare: 0.05, BadShare: 0.02, Partitions: 6, ResultsPartitions: 3, Runs: 3, Timeout: 2 * time.Minute,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("peers: no brokers")
	case !c.SkipDuckDB && c.Python == "":
		return errors.New("peers: no python for the DuckDB peer")
	case c.Projects < 1 || c.Events < 2:
		return fmt.Errorf("peers: need at least a project (%d) and two events (%d)", c.Projects, c.Events)
	case c.Span < time.Hour || c.Span > 30*24*time.Hour:
		return fmt.Errorf("peers: span %v must be between 1h and 30 days", c.Span)
	case c.MaxDelay < 0 || c.MaxDelay > time.Hour:
		return fmt.Errorf("peers: max delay %v must be between 0 and 1h (under the correction horizon)", c.MaxDelay)
	case c.DupShare < 0 || c.BadShare < 0 || c.DupShare+c.BadShare > 0.5:
		return errors.New("peers: dup and bad shares must be non-negative and sum to at most 0.5")
	case c.Partitions < 1 || c.ResultsPartitions < 1 || c.Runs < 1 || c.Timeout <= 0:
		return errors.New("peers: partitions, runs and timeout must be positive")
	}
	return nil
}
