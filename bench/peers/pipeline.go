package peers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/ingest"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/query"
)

// PipelineResult is one run of our pipeline on the filled topic.
type PipelineResult struct {
	// Total is from the start of ingest (Service.Run) until the store that the API reads holds
	// every hour of the workload exactly.
	Total time.Duration
	// CPU is the CPU time of this process (ingest, query and the bench's polling) over Total:
	// on a shared machine a steadier figure than Total. The broker's is not included.
	CPU time.Duration
	// Published is the number of results ingest wrote; DeadLetters the messages it rejected.
	Published, DeadLetters int
	// Marks is the timeline of the run: what ingest and query logged, at the time since the start.
	Marks []Mark
}

// Mark is a log line of ingest or query during a run.
type Mark struct {
	At   time.Duration
	What string // component: message key=value…
}

// pollInterval is the resolution of the end of a pipeline run: how often the store is checked.
// A check resumes at the first series that was wrong last time, so it costs about one series
// read while the pipeline works.
const pollInterval = time.Millisecond

// RunPipeline runs ingest and a query materializer against the events topic, already filled
// with the workload, until the store holds want over r; then it checks the whole store once more
// after ingest has caught up, and stops both. Each run uses its own group and results,
// checkpoint and dead-letter topics, named after id. The query materializer is started and
// caught up (with the empty results topic) before ingest, as a running query service is.
func RunPipeline(ctx context.Context, cfg Config, topic, id string, r Range, want Table) (PipelineResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	kc, err := kafkax.NewClient(cfg.Brokers, kafkax.Security{})
	if err != nil {
		return PipelineResult{}, err
	}
	icfg := ingest.DefaultConfig()
	icfg.Brokers, icfg.Topic, icfg.Group = cfg.Brokers, topic, "peers-group-"+id
	icfg.ResultsTopic, icfg.CheckpointTopic, icfg.DLQTopic = "peers-hourly-"+id, "peers-ckpt-"+id, "peers-dlq-"+id
	icfg.Partitions, icfg.ResultsPartitions = cfg.Partitions, cfg.ResultsPartitions
	// The results topic exists before ingest starts (the query service reads it); the checkpoint
	// and dead-letter topics only with TopicsExist. They are created as ingest would create them,
	// and EnsureTopics waits for their leaders.
	var topics []kafkax.TopicSpec
	for _, t := range icfg.Topics() {
		if t.Name == icfg.ResultsTopic || cfg.TopicsExist && (t.Name == icfg.CheckpointTopic || t.Name == icfg.DLQTopic) {
			topics = append(topics, t)
		}
	}
	if err := kc.EnsureTopics(ctx, topics...); err != nil {
		return PipelineResult{}, err
	}
	if cfg.TopicsExist {
		// A topic that exists answers reads at once; one created a moment ago does not yet.
		for p := range icfg.Partitions {
			if _, _, err := kc.Offsets(ctx, icfg.CheckpointTopic, p); err != nil {
				return PipelineResult{}, err
			}
		}
	}

	marks := &markLog{}
	store := query.NewStore()
	qcfg := query.DefaultConfig()
	qcfg.Brokers, qcfg.Topic = cfg.Brokers, icfg.ResultsTopic
	qreg := prometheus.NewRegistry()
	mt, err := query.NewMaterializer(qcfg, store, slog.New(marks.handler("query")), qreg)
	if err != nil {
		return PipelineResult{}, err
	}
	qctx, stopQuery := context.WithCancel(ctx)
	qdone := make(chan error, 1)
	go func() { qdone <- mt.Run(qctx) }()
	defer func() { stopQuery(); <-qdone }()
	select {
	case <-mt.CaughtUp():
	case <-ctx.Done():
		return PipelineResult{}, fmt.Errorf("query did not start: %w", ctx.Err())
	}

	ireg := prometheus.NewRegistry()
	svc, err := ingest.New(icfg, slog.New(marks.handler("ingest")), ireg)
	if err != nil {
		return PipelineResult{}, err
	}
	ictx, stopIngest := context.WithCancel(ctx)
	idone := make(chan error, 1)
	cpu0 := cpuTime()
	start := time.Now()
	marks.begin(start)
	go func() { idone <- svc.Run(ictx) }()
	defer func() { stopIngest(); <-idone }()

	chk := newChecker(r, want)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !chk.exact(store) {
		select {
		case <-ctx.Done():
			got := ReadTable(r, store)
			return PipelineResult{}, fmt.Errorf("pipeline not exact after %v: %w", time.Since(start).Round(time.Millisecond),
				MismatchError("ours against the expected table", Compare(r, got, want)))
		case <-tick.C:
		}
	}
	res := PipelineResult{Total: time.Since(start), CPU: cpuTime() - cpu0}
	marks.add("bench", "every hour exact in the store")

	// Not timed: once ingest has read everything and published it, the store must still be
	// exact (an hour right by chance while a later correction was on its way would show here).
	for !svc.CaughtUp() {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("ingest did not catch up: %w", ctx.Err())
		case <-tick.C:
		}
	}
	if err := waitQuery(ctx, kc, icfg.ResultsTopic, icfg.ResultsPartitions, qreg); err != nil {
		return res, err
	}
	if ms := Compare(r, ReadTable(r, store), want); len(ms) > 0 {
		return res, MismatchError("ours, once ingest caught up, against the expected table", ms)
	}
	if err := checkAPI(store, r, want); err != nil {
		return res, err
	}
	res.Marks = marks.list()
	res.Published = counter(ireg, "recordusage_results_published_total")
	res.DeadLetters = counter(ireg, "recordusage_events_rejected_total")
	return res, nil
}

// checker finds out cheaply whether a store holds a table: it resumes at the first series that
// was wrong the last time and, once it reaches the end, checks every series again in one pass.
type checker struct {
	r    Range
	want [][]api.Peak // per series of r, per hour
	buf  []api.Peak
	next int  // first series not known to be right
	full bool // every series before next was checked in this pass
}

func newChecker(r Range, want Table) *checker {
	n := int((r.Last-r.First)/3600) + 1
	c := &checker{r: r, buf: make([]api.Peak, n), full: true}
	for _, s := range r.Series {
		row := make([]api.Peak, n)
		for i := range row {
			row[i] = want[HourKey{s, r.First + int64(i)*3600}]
		}
		c.want = append(c.want, row)
	}
	return c
}

// exact reports whether every series is right, all read in one pass.
func (c *checker) exact(src PeakReader) bool {
	for {
		for c.next < len(c.r.Series) {
			s := c.r.Series[c.next]
			src.Peaks(s.Project, s.Domain, time.Unix(c.r.First, 0).UTC(), c.buf)
			for i, p := range c.buf {
				if p.Canonical() != c.want[c.next][i] {
					c.full = false
					return false
				}
			}
			c.next++
		}
		if c.full {
			return true
		}
		c.next, c.full = 0, true // right in pieces: check them all at once
	}
}

// markLog keeps the log lines of a run with their times: the timeline of the breakdown.
type markLog struct {
	mu struct {
		sync.Mutex
		start time.Time
		marks []Mark
	}
}

func (l *markLog) begin(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.start = t
	l.mu.marks = l.mu.marks[:0]
}

func (l *markLog) add(component, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.start.IsZero() {
		l.mu.marks = append(l.mu.marks, Mark{At: time.Since(l.mu.start), What: component + ": " + what})
	}
}

func (l *markLog) list() []Mark {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.mu.marks)
}

func (l *markLog) handler(component string) slog.Handler {
	return &markHandler{log: l, component: component}
}

// markHandler is a slog.Handler recording info lines and above into a markLog.
type markHandler struct {
	log       *markLog
	component string
	attrs     []slog.Attr
}

func (h *markHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *markHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.log.add(h.component, b.String())
	return nil
}

func (h *markHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &markHandler{log: h.log, component: h.component, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *markHandler) WithGroup(string) slog.Handler { return h }

// counter returns the sum of a counter's series in reg.
func counter(reg *prometheus.Registry, name string) int {
	mfs, _ := reg.Gather()
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int(n)
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
