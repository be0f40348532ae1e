package peers

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/results"
)

//go:embed duckdb_peer.py
var duckdbScript []byte

// DuckDBResult is one run of the DuckDB peer.
type DuckDBResult struct {
	// Load is reading and validating the messages into a table; Query is computing the hourly
	// peaks from it. Both are measured inside the Python process, from connecting to DuckDB to
	// the result table; starting Python and writing the result out are not counted.
	Load, Query time.Duration
	// Process is the whole python process, start-up and output included.
	Process time.Duration
	// ProcessCPU is the CPU time of the whole python process (start-up and output included).
	ProcessCPU time.Duration
	Version    string
	Threads    string
	Table      Table
}

// Total is Load + Query: what the peers table compares.
func (r DuckDBResult) Total() time.Duration { return r.Load + r.Query }

// RunDuckDB computes the table from the events file with DuckDB through python (which must have
// the duckdb module), dir holding the script and the result. frontier is the Unix minute
// through which open sessions count.
func RunDuckDB(ctx context.Context, python, dir, events string, frontier int64) (DuckDBResult, error) {
	script := filepath.Join(dir, "duckdb_peer.py")
	if err := os.WriteFile(script, duckdbScript, 0o644); err != nil {
		return DuckDBResult{}, err
	}
	out := filepath.Join(dir, "duckdb-peaks.csv")
	cmd := exec.CommandContext(ctx, python, script, events, out)
	cmd.Env = append(os.Environ(), "PEERS_FRONTIER_MINUTE="+strconv.FormatInt(frontier, 10))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return DuckDBResult{}, fmt.Errorf("duckdb peer: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	res := DuckDBResult{Process: time.Since(start), ProcessCPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	var st struct {
		Load    float64 `json:"load_s"`
		Query   float64 `json:"query_s"`
		Version string  `json:"duckdb"`
		Threads string  `json:"threads"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &st); err != nil {
		return DuckDBResult{}, fmt.Errorf("duckdb peer: bad output %q: %w", stdout.String(), err)
	}
	res.Load, res.Query = seconds(st.Load), seconds(st.Query)
	res.Version, res.Threads = st.Version, st.Threads
	t, err := readPeaksCSV(out)
	if err != nil {
		return DuckDBResult{}, err
	}
	res.Table = t
	return res, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// readPeaksCSV reads the peer's result: project,domain,hour,count,minute (Unix seconds).
func readPeaksCSV(path string) (Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := Table{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ",")
		if len(fs) != 5 {
			return nil, fmt.Errorf("duckdb peer: bad line %q", sc.Text())
		}
		hour, e1 := strconv.ParseInt(fs[2], 10, 64)
		count, e2 := strconv.ParseUint(fs[3], 10, 32)
		minute, e3 := strconv.ParseInt(fs[4], 10, 64)
		if e1 != nil || e2 != nil || e3 != nil || minute < hour || minute >= hour+3600 {
			return nil, fmt.Errorf("duckdb peer: bad line %q", sc.Text())
		}
		d := fs[1]
		if d == results.AllDomains {
			d = ""
		}
		if count > 0 {
			t[HourKey{Series{fs[0], d}, hour}] = api.Peak{Count: uint32(count), Minute: uint8((minute - hour) / 60)}
		}
	}
	return t, sc.Err()
}
