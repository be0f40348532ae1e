// Package freshness measures how fresh the query API is end to end (CONTRACT.md §4, live
// values): with ingest and a query materializer running caught up under the load generator's
// live load, a RECORD_START for a project never seen is produced at a random moment, and the
// time until the store that the API reads counts it is taken, Samples times. It also measures
// the churn of the results topic under that load: the records per second a caught-up partition
// writes, which must stay bounded (an hour is republished only when its value changes).
package freshness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/bench/loadgen"
	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/ingest"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/query"
)

// Config shapes a run. Start from DefaultConfig.
type Config struct {
	// Brokers is the Kafka cluster (required); the run creates topics named after RunID.
	Brokers []string
	RunID   string // default: random
	// Samples is the number of fresh starts measured (default 30).
	Samples int
	// Gap is the mean pause between samples, drawn uniformly from [Gap/2, 3Gap/2) (default 1s).
	Gap time.Duration
	// Warmup is how long the live load runs before measuring, once ingest has caught up
	// (default 10s): the load generator's first seconds send the starts of every session
	// already open.
	Warmup time.Duration
	// Load is the live load (default: bench/loadgen's defaults in live mode).
	Load loadgen.Config
	// Timeout bounds one sample (default 10s).
	Timeout time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	load := loadgen.DefaultConfig()
	load.Mode = loadgen.ModeLive
	return Config{Samples: 30, Gap: time.Second, Warmup: 10 * time.Second, Load: load, Timeout: 10 * time.Second}
}

// Report is the outcome of Run.
type Report struct {
	// Latencies are the samples, from just before the produce call to the value counted in the
	// store, in the order taken.
	Latencies []time.Duration
	// Input is the live load's messages per second over the measurement; Results the records
	// per second ingest wrote to the results topic meanwhile (the samples' own included), and
	// Partitions the input partitions, all caught up.
	Input, Results float64
	Partitions     int
}

// Quantile returns the q-quantile of the latencies (nearest rank).
func (r Report) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Summary is the report in one line.
func (r Report) Summary() string {
	return fmt.Sprintf("freshness: produce → visible in the store the API reads: p50 %v, p99 %v, max %v over %d samples; "+
		"live load %.0f msg/s; results topic %.1f records/s (%.1f per caught-up partition of %d)",
		r.Quantile(0.5).Round(100*time.Microsecond), r.Quantile(0.99).Round(100*time.Microsecond),
		slices.Max(r.Latencies).Round(100*time.Microsecond), len(r.Latencies),
		r.Input, r.Results, r.Results/float64(r.Partitions), r.Partitions)
}

// Run measures; progress gets a line per step.
func Run(ctx context.Context, cfg Config, log *slog.Logger, progress func(string)) (Report, error) {
	if len(cfg.Brokers) == 0 || cfg.Samples < 1 || cfg.Gap <= 0 || cfg.Timeout <= 0 {
		return Report{}, errors.New("freshness: need brokers and positive samples, gap and timeout")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if progress == nil {
		progress = func(string) {}
	}
	if cfg.RunID == "" {
		cfg.RunID = strconv.FormatUint(rand.Uint64()%1e9, 10)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	icfg := ingest.DefaultConfig()
	icfg.Brokers, icfg.Topic, icfg.Group = cfg.Brokers, "fresh-events-"+cfg.RunID, "fresh-group-"+cfg.RunID
	icfg.ResultsTopic, icfg.CheckpointTopic, icfg.DLQTopic = "fresh-hourly-"+cfg.RunID, "fresh-ckpt-"+cfg.RunID, "fresh-dlq-"+cfg.RunID
	kc := kafkax.Plain(cfg.Brokers...)
	if err := kc.EnsureTopics(ctx,
		kafkax.TopicSpec{Name: icfg.Topic, Partitions: icfg.Partitions, ReplicationFactor: 1},
		kafkax.TopicSpec{Name: icfg.ResultsTopic, Partitions: icfg.ResultsPartitions, ReplicationFactor: 1,
			Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
		return Report{}, err
	}

	// Query, caught up with the empty results topic, then ingest, then the live load.
	store := query.NewStore()
	qcfg := query.DefaultConfig()
	qcfg.Brokers, qcfg.Topic = cfg.Brokers, icfg.ResultsTopic
	mt, err := query.NewMaterializer(qcfg, store, log, nil)
	if err != nil {
		return Report{}, err
	}
	done := make(chan error, 3)
	go func() { done <- mt.Run(ctx) }()
	reg := prometheus.NewRegistry()
	svc, err := ingest.New(icfg, log, reg)
	if err != nil {
		return Report{}, err
	}
	go func() { done <- svc.Run(ctx) }()
	sink, err := loadgen.NewKafkaSink(loadgen.KafkaConfig{Brokers: cfg.Brokers, Topic: icfg.Topic})
	if err != nil {
		return Report{}, err
	}
	defer sink.Close(5 * time.Second)
	var sent func() int64
	{
		st := make(chan loadgen.Stats, 1)
		counting := &countingSink{Sink: sink}
		sent = counting.n.Load
		go func() {
			s, err := loadgen.Run(ctx, cfg.Load, counting, nil)
			st <- s
			done <- err
		}()
	}
	defer func() { cancel(); <-done; <-done; <-done }()

	wait := func(what string, ok func() bool, limit time.Duration) error {
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("freshness: %s did not happen within %v", what, limit)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	}
	if err := wait("query start", mt.Ready, time.Minute); err != nil {
		return Report{}, err
	}
	if err := wait("ingest catching up", svc.CaughtUp, time.Minute); err != nil {
		return Report{}, err
	}
	progress(fmt.Sprintf("freshness: ingest caught up; live load for %v before measuring", cfg.Warmup))
	time.Sleep(cfg.Warmup)

	w := kc.Writer(icfg.Topic, &kafka.Hash{})
	w.RequiredAcks, w.BatchTimeout, w.BatchSize = kafka.RequireOne, time.Millisecond, 1
	defer kafkax.CloseWriter(w)
	rep := Report{Partitions: icfg.Partitions}
	pub0, in0, t0 := published(reg), sent(), time.Now()
	buf := make([]api.Peak, 1)
	for i := range cfg.Samples {
		time.Sleep(cfg.Gap/2 + rand.N(cfg.Gap))
		project := "fresh-" + cfg.RunID + "-" + strconv.Itoa(i)
		now := time.Now()
		ev := event.Event{ProjectID: []byte(project), PublishDomain: []byte("push.fresh.example.com"), App: []byte("live"),
			Stream: []byte("s"), Type: event.RecordStart, Time: now.Truncate(time.Millisecond).UnixNano()}
		msg := kafka.Message{Key: []byte(project), Value: event.AppendJSON(nil, &ev)}
		start := time.Now()
		if err := w.WriteMessages(ctx, msg); err != nil {
			return rep, err
		}
		hour := now.UTC().Truncate(time.Hour)
		for {
			store.Peaks(project, "", hour, buf)
			if buf[0].Count > 0 {
				break
			}
			if time.Since(start) > cfg.Timeout {
				return rep, fmt.Errorf("freshness: sample %d not visible after %v", i, cfg.Timeout)
			}
			time.Sleep(200 * time.Microsecond)
		}
		rep.Latencies = append(rep.Latencies, time.Since(start))
		if store.Peaks(project, "", hour.Add(-time.Hour), buf); buf[0].Count > 0 {
			return rep, fmt.Errorf("freshness: sample %d counted in the previous hour", i)
		}
	}
	el := time.Since(t0).Seconds()
	rep.Results = float64(published(reg)-pub0) / el
	rep.Input = float64(sent()-in0) / el
	return rep, nil
}

func published(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "recordusage_results_published_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
