package ingest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/engine"
	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/kafkax"
)

// partitionLoop owns one assigned partition for the life of a generation: its engine, its
// reader and the messages waiting to be published. Nothing else touches them.
type partitionLoop struct {
	s         *Service
	gen       *kafka.Generation
	partition int
	log       *slog.Logger
	m         *partitionMetrics

	fetchFailures kafkax.Failures

	eng    *engine.Engine
	ckpt   *checkpointer
	source []kafka.Header // of every result record: results.SourceHeader naming this partition (shared, read-only)
	next   int64          // offset of the next message to apply
	hwm    int64          // high watermark seen with the last message, or at the start

	// reconcileAt is the end of the partition when the owner started: a predecessor cannot have
	// read further, so a recovering engine reconciles once it has applied everything before it.
	reconcileAt int64
	recovering  bool // counted in the recovering gauge
	dec         event.Decoder
	ev          event.Event
	out         []kafka.Message // results not yet published
	dead        []kafka.Message // dead letters not yet published
	lastCkpt    time.Time
	ownedAt     time.Time  // when the group last confirmed that this instance owns the partition (see mayPublish)
	at          time.Time  // while a message is applied, when it arrived (clock); zero otherwise
	claim       chan error // the result of restore's write saying this owner may publish; see claimed
	claimErr    error
	late        uint64 // engine's late count already added to the metric

	// caughtUp says the last flush published everything up to the end of the partition (it
	// is counted in Service.caughtUp); started and backlog date the first time, for the log.
	caughtUp bool
	started  time.Time
	backlog  int64 // messages behind the end when the partition started
}

// run restores the partition and processes it until the generation or the process ends, then
// publishes, checkpoints and commits. ready is called once the partition is restored and the
// checkpoint topic says that this owner may publish.
func (pl *partitionLoop) run(ctx, gctx context.Context, committed int64, ready func()) {
	s, p := pl.s, pl.partition
	pctx, cancel := context.WithCancel(gctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	defer s.m.forget(p)
	defer pl.setCaughtUp(false)
	defer func() {
		if pl.recovering {
			s.m.recovering.Dec() // the next owner goes on with it
		}
	}()

	if err := pl.restore(pctx, committed, ready); err != nil {
		if pctx.Err() == nil {
			// Starting empty would publish wrong results: stay stopped, visible in the lag metric.
			pl.log.Error("cannot restore the partition's checkpoint; not consuming it", "err", brief(err))
			<-pctx.Done()
		}
		return
	}
	r, err := pl.openReader()
	if err != nil {
		pl.log.Error("cannot read the partition", "offset", pl.next, "err", brief(err))
		pl.claimed() // the write ends with pctx
		return
	}
	defer kafkax.CloseReader(r)
	pl.consume(pctx, r)
	if pl.claimed() != nil {
		return // stopped before this owner could say it may publish: it published nothing
	}
	pl.finish(ctx)
}

// openReader returns a reader of the partition positioned at the next offset to apply.
func (pl *partitionLoop) openReader() (*kafka.Reader, error) {
	s := pl.s
	// The lag is known from the start: restore read the partition's end offset.
	pl.m.lag.Set(float64(max(0, pl.hwm-pl.next)))
	// A deep queue lets the reader's fetch goroutine run ahead of the engine through a backlog
	// (the default 100 messages made it wait on the channel); lag is computed from the high
	// watermark of each message, so kafka-go's lag polling is off.
	r := s.kafka.Reader(kafka.ReaderConfig{Topic: s.cfg.Topic, Partition: pl.partition,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: kafkax.FetchMaxWait, QueueCapacity: 4096, ReadLagInterval: -1})
	if err := r.SetOffset(pl.next); err != nil {
		kafkax.CloseReader(r)
		return nil, err
	}
	pl.log.Info("partition started", "offset", pl.next)
	pl.started, pl.backlog = time.Now(), max(0, pl.hwm-pl.next)
	return r, nil
}

// consume reads, applies and publishes until ctx ends. It publishes once per backlog flush
// interval while reading a backlog, and at once when the message read was the last one of the
// partition: a backlog's results then appear as soon as it is read, not up to a flush interval
// later, and a caught-up partition publishes each fetched batch (its messages come together)
// without waiting. After a publication it checkpoints when the checkpoint interval is over.
func (pl *partitionLoop) consume(ctx context.Context, r *kafka.Reader) {
	s := pl.s
	// One deadline per flush interval, shared by the fetches within it, rather than a context
	// and a timer per message on the hot path.
	lastFlush := time.Now()
	window := newDeadline(ctx, lastFlush.Add(s.cfg.FlushInterval))
	defer window.stop()
	for ctx.Err() == nil {
		m, err := r.FetchMessage(window.ctx)
		now := time.Now()
		switch {
		case err == nil:
			pl.fetchFailures.Succeeded(pl.log, "fetching works again")
			if s.wallClock {
				pl.at = now
			}
			pl.handle(m)
			pl.at = time.Time{}
		case ctx.Err() != nil:
			continue
		case !errors.Is(err, context.DeadlineExceeded):
			pl.fetchFailures.Failed(ctx, pl.log, "fetch failed; kafka-go retries until it works again", brief(err))
			continue
		}
		if now.Sub(lastFlush) < s.cfg.BacklogFlushInterval && err == nil && len(pl.out)+len(pl.dead) < 10_000 &&
			pl.next < pl.hwm {
			continue
		}
		lastFlush = now
		interval := s.cfg.FlushInterval
		if pl.next < pl.hwm {
			interval = s.cfg.BacklogFlushInterval
		}
		window.reset(ctx, lastFlush.Add(interval))
		if !pl.mayPublish() {
			return // fenced: another instance owns the partition
		}
		if !pl.flushRetrying(ctx) {
			continue // stopping: finish tries once more
		}
		if time.Since(pl.lastCkpt) >= s.cfg.CheckpointInterval {
			pl.hook("checkpoint")
			pl.checkpoint(ctx)
		}
		pl.observe()
	}
}

// finish publishes, checkpoints and commits what was applied when the generation or the process
// ends, with a context of its own since the partition's is done. The checkpoint is clean:
// nothing is published after it, so the next owner need not recover.
func (pl *partitionLoop) finish(ctx context.Context) {
	pl.hook("finish")
	defer pl.hook("finished")
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if pl.fenced() {
		return
	}
	if err := pl.flush(final); err != nil {
		pl.log.Warn("final publish failed; the next owner replays from the last checkpoint", "err", brief(err))
		return
	}
	pl.checkpointAs(final, true)
	pl.log.Info("partition stopped", "offset", pl.next)
}

// observe updates the partition's gauges after a publication.
func (pl *partitionLoop) observe() {
	pl.m.lag.Set(float64(max(0, pl.hwm-pl.next)))
	pl.m.checkpointAge.Set(time.Since(pl.lastCkpt).Seconds())
	if wm, ok := pl.eng.Watermark(); ok {
		pl.m.setWatermark(wm, pl.s.cfg.Now())
	}
	recordings, series := pl.eng.Held()
	pl.m.recordings.Set(float64(recordings))
	pl.m.series.Set(float64(series))
}

// deadline is a context that ends at a time and can be moved on, cancelling the old one.
type deadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newDeadline(parent context.Context, at time.Time) *deadline {
	d := &deadline{}
	d.reset(parent, at)
	return d
}

func (d *deadline) reset(parent context.Context, at time.Time) {
	if d.cancel != nil {
		d.cancel()
	}
	d.ctx, d.cancel = context.WithDeadline(parent, at)
}

func (d *deadline) stop() { d.cancel() }

// brief shortens an error for a log line: kafka-go joins one error per message of a failed batch.
func brief(err error) string {
	const limit = 300
	if s := err.Error(); len(s) > limit {
		return s[:limit] + "…"
	}
	return err.Error()
}

// fenced reports whether the group coordinator says that this instance is no longer a member of
// the generation that gave it the partition: it was expelled while paused or cut off (a "zombie":
// a long GC or VM pause, a network partition), and another instance may own the partition and
// publish and checkpoint it already. Such an instance must write nothing more: above all not its
// clean final checkpoint, which would replace its successor's, so that the next owner would
// restore it and skip the recovery that the successor's publications need.
//
// It asks by committing again the offset of the last checkpoint, which the coordinator refuses
// from an expelled member and accepts from an owner, also during a rebalance until the owner
// has rejoined. Other errors (the coordinator out of reach) prove nothing: the caller goes on, and
// its writes fail or succeed on their own.
func (pl *partitionLoop) fenced() bool {
	// The checkpointer is the claim's until the claim is acknowledged; a claim that failed
	// published nothing, and nothing will be.
	if pl.claimed() != nil || pl.gen == nil || !pl.ckpt.has {
		return false
	}
	err := pl.commit(pl.ckpt.last.NextOffset)
	if !isFencedErr(err) {
		return false
	}
	pl.s.m.fenced.Inc()
	pl.log.Error("this instance was expelled from the consumer group while it owned the partition (a long pause, "+
		"or cut off from the group coordinator); another instance may own it now: not publishing or checkpointing it",
		"generation", pl.gen.ID, "err", err.Error())
	return true
}

// mayPublish reports whether the partition loop may publish a flush. The group can only have
// expelled this instance if it missed heartbeats for a session timeout, which a process pause
// longer than that does (the usual zombie): so when the group last confirmed this instance's
// ownership (a commit, at every checkpoint) more than half a session timeout ago, it asks again
// (fenced) before publishing. While the loop runs, checkpoints confirm it every checkpoint
// interval, and the question costs one commit now and then.
func (pl *partitionLoop) mayPublish() bool {
	if time.Since(pl.ownedAt) <= pl.s.cfg.SessionTimeout/2 {
		return true
	}
	return !pl.fenced()
}

// commit commits offset through the generation, and notes that the group confirmed this
// instance's ownership when it succeeds (mayPublish).
func (pl *partitionLoop) commit(offset int64) error {
	err := pl.gen.CommitOffsets(map[string]map[int]int64{pl.s.cfg.Topic: {pl.partition: offset}})
	if err == nil {
		pl.ownedAt = time.Now()
	}
	return err
}

// isFencedErr reports whether err is the group coordinator's answer to a member that is not in
// the group's current generation.
func isFencedErr(err error) bool {
	return errors.Is(err, kafka.IllegalGeneration) || errors.Is(err, kafka.UnknownMemberId) ||
		errors.Is(err, kafka.FencedInstanceID)
}

// hook calls the test hook of the config, if any (Config.hook).
func (pl *partitionLoop) hook(at string) {
	if h := pl.s.cfg.hook; h != nil {
		h(pl, at)
	}
}
