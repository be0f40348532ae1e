package peers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/recordusage/recordusage/internal/kafkax"
)

// Report is the outcome of Run.
type Report struct {
	Messages, Bad int
	DuckDB        []DuckDBResult
	Pipeline      []PipelineResult
}

// Run generates the workload, writes it to a file and to a new events topic, then alternates
// the DuckDB peer and our pipeline cfg.Runs times each. Every answer is checked hour by hour:
// DuckDB's first against the reference model when the workload is small, every DuckDB answer
// against the first, and our pipeline's against DuckDB's (or the reference model's with
// SkipDuckDB). A mismatch is an error. progress receives a line per step (nil: none).
func Run(ctx context.Context, cfg Config, log *slog.Logger, progress io.Writer) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	if progress == nil {
		progress = io.Discard
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.RunID == "" {
		cfg.RunID = strconv.FormatUint(rand.Uint64()%1e9, 10)
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "recordusage-peers-")
		if err != nil {
			return Report{}, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	// The last events are ten minutes old: under the engine's 5-minute clock-skew limit for
	// the future, and far inside its retention.
	end := time.Now().Add(-10 * time.Minute)
	w := Generate(cfg, end)
	rep := Report{Messages: len(w.Msgs), Bad: w.Bad}
	path := filepath.Join(dir, "events.ndjson")
	if err := w.WriteFile(path); err != nil {
		return rep, err
	}
	kc, err := kafkax.NewClient(cfg.Brokers, kafkax.Security{})
	if err != nil {
		return rep, err
	}
	topic := "peers-events-" + cfg.RunID
	t0 := time.Now()
	if err := w.Produce(ctx, kc, topic, cfg.Partitions); err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "peers: %d messages (%d bad) of %d projects over %v in %s and topic %s (produced in %v)\n",
		len(w.Msgs), w.Bad, cfg.Projects, cfg.Span, path, topic, time.Since(t0).Round(time.Millisecond))

	// Open sessions would count through the current minute; the workload has none.
	frontier := time.Now().Unix() / 60
	var want Table
	if cfg.SkipDuckDB || cfg.Events <= 50_000 {
		want = ReferenceTable(w.Good, frontier)
	}
	// The pipeline runs in this process: the workload must not stay on its heap, where the
	// garbage collector would scan it during every run (ingest's own process never holds it).
	r, bad := w.Range, w.Bad
	w = Workload{}
	for i := range cfg.Runs {
		if !cfg.SkipDuckDB {
			res, err := RunDuckDB(ctx, cfg.Python, dir, path, frontier)
			if err != nil {
				return rep, err
			}
			// The peer has no message keys: it counts the key-mismatch messages of the
			// workload, whose project ("other") is not one of the workload's.
			res.Table = res.Table.Within(r)
			if want == nil {
				want = res.Table
			} else if ms := Compare(r, res.Table, want); len(ms) > 0 {
				return rep, MismatchError("duckdb against the expected table", ms)
			}
			rep.DuckDB = append(rep.DuckDB, res)
			fmt.Fprintf(progress, "peers: run %d: duckdb %v (load %v + query %v; python process %v, %v CPU), %d hours exact\n",
				i+1, ms(res.Total()), ms(res.Load), ms(res.Query), ms(res.Process), ms(res.ProcessCPU), len(want))
		}
		runtime.GC() // each run starts with a clean heap, as a freshly started ingest does
		res, err := RunPipeline(ctx, cfg, topic, cfg.RunID+"-"+strconv.Itoa(i), r, want)
		if err != nil {
			return rep, err
		}
		rep.Pipeline = append(rep.Pipeline, res)
		fmt.Fprintf(progress, "peers: run %d: recordusage %v from ingest start to every hour exact at the API "+
			"(%v CPU in this process; %d results published, %d dead letters)\n", i+1, ms(res.Total), ms(res.CPU),
			res.Published, res.DeadLetters)
		if res.DeadLetters != bad {
			return rep, fmt.Errorf("ingest dead-lettered %d messages, the workload has %d bad ones", res.DeadLetters, bad)
		}
	}
	return rep, nil
}

func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// Median returns the median of ds (the lower middle for an even count).
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// Summary is the one line of a report: both medians, their ranges and the ratio.
func (r Report) Summary() string {
	var ours, duck []time.Duration
	for _, p := range r.Pipeline {
		ours = append(ours, p.Total)
	}
	for _, d := range r.DuckDB {
		duck = append(duck, d.Total())
	}
	line := fmt.Sprintf("peers: %d messages: recordusage %.2f s (%s)", r.Messages, Median(ours).Seconds(), span(ours))
	if len(duck) > 0 {
		line += fmt.Sprintf(", duckdb %.2f s (%s), duckdb/recordusage %.2f×", Median(duck).Seconds(), span(duck),
			Median(duck).Seconds()/Median(ours).Seconds())
	}
	return line
}

func span(ds []time.Duration) string {
	return fmt.Sprintf("%.2f–%.2f over %d runs", slices.Min(ds).Seconds(), slices.Max(ds).Seconds(), len(ds))
}
