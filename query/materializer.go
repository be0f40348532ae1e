package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/results"
)

// Config configures a Materializer. Start from DefaultConfig.
type Config struct {
	// Brokers are the Kafka bootstrap brokers (required).
	Brokers []string
	// Security is how every connection to the brokers is secured (TLS, SASL); the zero value
	// is plaintext without authentication.
	Security kafkax.Security
	// Topic is the compacted results topic (default record-usage-hourly).
	Topic string
	// Retain is how far back from now hours are kept (default 91 days: the 90-day query
	// lookback plus a day). Older records are skipped and older blocks released.
	Retain time.Duration
	// PruneInterval is how often blocks older than Retain are released (default 1h).
	PruneInterval time.Duration
	// RetryBackoff is the pause after a failed fetch or offset look-up (default 1s).
	RetryBackoff time.Duration
	// Now is the wall clock; time.Now when nil.
	Now func() time.Time
}

// DefaultConfig returns the defaults of CONTRACT.md §7–§8 (without brokers).
func DefaultConfig() Config {
	return Config{
		Topic:         "record-usage-hourly",
		Retain:        91 * 24 * time.Hour,
		PruneInterval: time.Hour,
		RetryBackoff:  time.Second,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("query: no brokers")
	case c.Topic == "":
		return errors.New("query: empty results topic")
	case c.Retain <= 0 || c.PruneInterval <= 0 || c.RetryBackoff <= 0:
		return fmt.Errorf("query: retain (%v), prune interval (%v) and retry backoff (%v) must be positive",
			c.Retain, c.PruneInterval, c.RetryBackoff)
	}
	return c.Security.Validate()
}

// Materializer reads the results topic into a Store and keeps it up to date.
type Materializer struct {
	cfg   Config
	kafka kafkax.Client // every connection to Kafka goes through it
	store *Store
	log   *slog.Logger
	m     *metrics

	caughtUp     atomic.Bool
	caughtUpOnce sync.Once
	caughtUpCh   chan struct{}
}

// NewMaterializer returns a Materializer filling store. reg may be nil (no metrics).
func NewMaterializer(cfg Config, store *Store, log *slog.Logger, reg prometheus.Registerer) (*Materializer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kc, err := kafkax.NewClient(cfg.Brokers, cfg.Security)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	// The client's readers log the errors kafka-go retries by itself (each names its topic).
	mt := &Materializer{cfg: cfg, kafka: kc.WithLogger(log), store: store, log: log.With("topic", cfg.Topic),
		caughtUpCh: make(chan struct{})}
	mt.m = newMetrics(reg, store, mt.caughtUp.Load)
	return mt, nil
}

// Ready reports whether every partition has reached the end offset it had at start-up.
func (mt *Materializer) Ready() bool { return mt.caughtUp.Load() }

// CaughtUp is closed once Ready becomes true.
func (mt *Materializer) CaughtUp() <-chan struct{} { return mt.caughtUpCh }

// Run reads the topic until ctx is done. It checks that Kafka can be used with the configured
// security (a wrong password or certificate is an error naming the broker and the cause), waits
// for the topic to exist, reads the start-up end offset of every partition, then runs one
// goroutine per partition. It returns nil when ctx is cancelled.
func (mt *Materializer) Run(ctx context.Context) error {
	if err := mt.kafka.Preflight(ctx, mt.log); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("start-up check: %w", err)
	}
	mt.log.Info("waiting for the results topic and its partition leaders")
	n, err := mt.kafka.WaitPartitions(ctx, mt.cfg.Topic)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	ends := make([]int64, n)
	for p := range n {
		for {
			first, end, err := mt.kafka.Offsets(ctx, mt.cfg.Topic, p)
			if err == nil {
				if first >= end {
					end = -1 // empty: nothing to catch up with
				}
				ends[p] = end
				break
			}
			mt.log.Warn("cannot read the partition's offsets; retrying", "partition", p, "err", err)
			if !sleep(ctx, mt.cfg.RetryBackoff) {
				return nil
			}
		}
	}
	mt.log.Info("materializing results", "partitions", n, "end_offsets", ends)
	start := time.Now()
	var pending atomic.Int64
	pending.Store(int64(n))
	done := func() {
		if pending.Add(-1) == 0 {
			mt.caughtUpOnce.Do(func() {
				mt.caughtUp.Store(true)
				close(mt.caughtUpCh)
				series, blocks := mt.store.Stats()
				mt.log.Info("caught up with the results topic", "took", time.Since(start).String(),
					"series", series, "blocks", blocks)
			})
		}
	}
	var wg sync.WaitGroup
	for p := range n {
		wg.Go(func() { mt.runPartition(ctx, p, ends[p], done) })
	}
	wg.Go(func() { mt.prune(ctx) })
	wg.Wait()
	return nil
}

// runPartition reads partition p from its first offset and calls done once it has read the
// record before end (or at once when end < 0: the partition was empty at start-up).
func (mt *Materializer) runPartition(ctx context.Context, p int, end int64, done func()) {
	log := mt.log.With("partition", p)
	reached := end < 0
	if reached {
		done()
	}
	// A partition Reader (no group) starts at kafka.FirstOffset, resolved by the broker when
	// reading: not the offset read at start-up, which compaction may have removed since.
	r := mt.kafka.Reader(kafka.ReaderConfig{Topic: mt.cfg.Topic, Partition: p,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: kafkax.FetchMaxWait})
	defer kafkax.CloseReader(r)
	offset := mt.m.offsets.WithLabelValues(strconv.Itoa(p))
	split := newSplits()
	var failures kafkax.Failures
	for ctx.Err() == nil {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				failures.Failed(ctx, log, "fetch failed; retrying until it works again", err)
				sleep(ctx, mt.cfg.RetryBackoff)
			}
			continue
		}
		failures.Succeeded(log, "fetching works again")
		mt.apply(m, split)
		offset.Set(float64(m.Offset))
		if !reached && m.Offset+1 >= end {
			reached = true
			log.Info("partition caught up", "offset", m.Offset)
			done()
		}
	}
}

// apply decodes one record into the store; a bad record is counted and skipped. split is the
// calling goroutine's.
func (mt *Materializer) apply(m kafka.Message, split splits) {
	rec, err := results.Decode(m.Key, m.Value)
	if err != nil {
		mt.m.bad.Inc()
		mt.log.Debug("bad result record skipped", "partition", m.Partition, "offset", m.Offset, "err", err)
		return
	}
	if was, now, ok := split.check(rec, m.Headers); ok {
		mt.m.split.Inc()
		mt.log.Error("a series' results come from two input partitions: the project's events are split between them, "+
			"which count them separately, and its results are wrong; all producers must place keys alike, and the input "+
			"topic's partition count must not change (docs/operations.md, Topics)",
			"project_id", rec.ProjectID, "domain", rec.Domain, "input_partitions", []int{was, now})
	}
	if rec.HourTime().Before(mt.cfg.Now().Add(-mt.cfg.Retain)) {
		mt.m.expired.Inc()
		return
	}
	mt.store.Put(rec)
	mt.m.records.Inc()
}

// prune releases blocks older than the retention every PruneInterval.
func (mt *Materializer) prune(ctx context.Context) {
	t := time.NewTicker(mt.cfg.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mt.store.DropBefore(mt.cfg.Now().Add(-mt.cfg.Retain).Truncate(time.Hour))
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// splits finds the series whose records name two input partitions (results.SourceHeader), by
// where each series' records come from. Each goroutine reading a results partition has its own:
// the hours of a series are spread over the results partitions, so each sees records of most
// series, and needs no lock.
type splits map[seriesKey]source

// source is an input topic and partition, and whether a record from another partition of the
// topic was reported.
type source struct {
	topic     string
	partition int
	reported  bool
}

func newSplits() splits { return splits{} }

// check notes where rec comes from and reports, once per series, a record from another partition
// of the same input topic than the series' earlier records. A record from another topic (a move
// to a new input) replaces the source silently. It copies nothing unless the source changes.
func (sp splits) check(rec results.Record, headers []kafka.Header) (was, now int, split bool) {
	var topic []byte
	ok := false
	for _, h := range headers {
		if h.Key == results.SourceHeader {
			topic, now, ok = results.ParseSource(h.Value)
		}
	}
	if !ok {
		return 0, 0, false // written before the header existed, or not by ingest
	}
	k := seriesKey{rec.ProjectID, rec.Domain}
	old, seen := sp[k]
	if !seen || old.topic != string(topic) {
		sp[k] = source{topic: string(topic), partition: now}
		return 0, 0, false
	}
	if old.partition == now || old.reported {
		return 0, 0, false
	}
	old.reported = true
	sp[k] = old
	return old.partition, now, true
}
