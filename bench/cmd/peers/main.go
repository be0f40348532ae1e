// Command peers runs the side-by-side benchmark of bench/peers: the same table from the same
// raw events by DuckDB (load + query) and by our pipeline (ingest on the filled topic until the
// query API answers every hour exactly), each answer checked hour by hour against the other.
// scripts/peers.sh installs DuckDB and runs it (make peers).
//
//	go run ./bench/cmd/peers --brokers 127.0.0.1:19092
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/recordusage/recordusage/bench/peers"
	"github.com/recordusage/recordusage/ingest"
	"github.com/recordusage/recordusage/internal/cli"
	"github.com/recordusage/recordusage/internal/ops"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := peers.DefaultConfig()
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	brokers := fs.String("brokers", "127.0.0.1:19092", "Kafka bootstrap brokers, comma-separated")
	fs.StringVar(&cfg.Python, "python", cfg.Python, "python with the duckdb module")
	fs.StringVar(&cfg.Dir, "dir", "", "directory for the events file and the peer's output (default: a temporary one)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "workload seed")
	fs.IntVar(&cfg.Projects, "projects", cfg.Projects, "projects")
	fs.IntVar(&cfg.Events, "events", cfg.Events, "good events, about (duplicates and bad messages come on top)")
	fs.DurationVar(&cfg.Span, "span", cfg.Span, "event time span")
	fs.Float64Var(&cfg.DupShare, "dup-share", cfg.DupShare, "share of exact duplicates")
	fs.Float64Var(&cfg.BadShare, "bad-share", cfg.BadShare, "share of bad messages")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "runs of each system (medians are reported)")
	fs.BoolVar(&cfg.SkipDuckDB, "skip-duckdb", false, "run our pipeline only, checked against the reference model")
	fs.BoolVar(&cfg.TopicsExist, "topics-exist", false, "create each run's checkpoint and dead-letter topics before ingest starts, "+
		"as on any start but a deployment's first (by default ingest creates them in the timed run)")
	timeline := fs.Bool("timeline", false, "print the log timeline of each pipeline run (where the time goes)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	gcPercent := fs.Int("gc-percent", ingest.DefaultGCPercent, "garbage-collection target as in GOGC, which wins when set; "+
		"the default is cmd/ingest's, since the pipeline runs in this process")
	if err := cli.ParseWithEnv(fs, args); err != nil {
		return err
	}
	ops.TuneGC(*gcPercent, 0) // as cmd/ingest sets it: GOGC and GOMEMLIMIT win
	cfg.Brokers = cli.Split(*brokers)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := peers.Run(ctx, cfg, log, os.Stderr)
	if *timeline {
		for i, p := range rep.Pipeline {
			fmt.Fprintf(os.Stderr, "timeline of run %d:\n", i+1)
			for _, m := range p.Marks {
				fmt.Fprintf(os.Stderr, "  %8.1f ms  %s\n", float64(m.At.Microseconds())/1000, m.What)
			}
		}
	}
	if err != nil {
		return err
	}
	fmt.Println(rep.Summary())
	return nil
}
