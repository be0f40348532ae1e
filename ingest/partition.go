package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/engine"
	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/results"
)

// partitionLoop owns one assigned partition for the life of a generation: its engine, its
// reader and the messages waiting to be published. Nothing else touches them.
type partitionLoop struct {
	s         *Service
	gen       *kafka.Generation
	partition int
	log       *slog.Logger

	eng  *engine.Engine
	ckpt *checkpointer
	next int64 // offset of the next message to apply
	hwm  int64 // high watermark seen with the last message, or at the start

	// reconcileAt is the end of the partition when the owner started: a predecessor cannot have
	// read further, so a recovering engine reconciles once it has applied everything before it.
	reconcileAt int64
	recovering  bool // counted in the recovering gauge
	dec         event.Decoder
	ev          event.Event
	out         []kafka.Message // results not yet published
	dead        []kafka.Message // dead letters not yet published
	lastCkpt    time.Time
	late        uint64 // engine's late count already added to the metric

	// caughtUp says the last flush published everything up to the end of the partition (it
	// is counted in Service.caughtUp); started and backlog date the first time, for the log.
	caughtUp bool
	started  time.Time
	backlog  int64 // messages behind the end when the partition started
}

// run restores the partition and processes it until the generation or the process ends, then
// checkpoints and commits. ready is called once the partition is restored.
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

	if err := pl.restore(pctx, committed); err != nil {
		if pctx.Err() == nil {
			// Starting empty would publish wrong results: stay stopped, visible in the lag metric.
			pl.log.Error("cannot restore the partition's checkpoint; not consuming it", "err", brief(err))
			<-pctx.Done()
		}
		return
	}
	ready()
	// The lag is known from the start: the partition's end offset was read by restore. (Before,
	// a partition that never received a message reported the distance from kafka.FirstOffset.)
	s.m.lag.WithLabelValues(strconv.Itoa(p)).Set(float64(max(0, pl.hwm-pl.next)))
	r := s.kafka.Reader(kafka.ReaderConfig{Topic: s.cfg.Topic, Partition: p,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond})
	defer kafkax.CloseReader(r)
	if err := r.SetOffset(pl.next); err != nil {
		pl.log.Error("cannot seek", "offset", pl.next, "err", brief(err))
		return
	}
	pl.log.Info("partition started", "offset", pl.next)
	pl.started, pl.backlog = time.Now(), max(0, pl.hwm-pl.next)
	// One deadline per flush interval, shared by the fetches within it, rather than a context
	// and a timer per message on the hot path.
	lastFlush := time.Now()
	window := newDeadline(pctx, lastFlush.Add(s.cfg.FlushInterval))
	defer window.stop()
	for pctx.Err() == nil {
		m, err := r.FetchMessage(window.ctx)
		switch {
		case err == nil:
			pl.handle(m)
		case pctx.Err() != nil:
			continue
		case !errors.Is(err, context.DeadlineExceeded):
			pl.log.Warn("fetch failed; retrying", "err", brief(err))
			continue
		}
		// Publish once per backlog flush interval while reading a backlog, and at once when
		// the message read was the last one of the partition: a backlog's results then appear
		// as soon as it is read, not up to a flush interval later, and a caught-up partition
		// publishes each fetched batch (its messages come together) without waiting.
		if time.Since(lastFlush) < s.cfg.BacklogFlushInterval && err == nil && len(pl.out)+len(pl.dead) < 10_000 &&
			pl.next < pl.hwm {
			continue
		}
		lastFlush = time.Now()
		if pl.next < pl.hwm {
			window.reset(pctx, lastFlush.Add(s.cfg.BacklogFlushInterval))
		} else {
			window.reset(pctx, lastFlush.Add(s.cfg.FlushInterval))
		}
		if !pl.flushRetrying(pctx) {
			continue // stopping: the final flush below tries once more
		}
		if time.Since(pl.lastCkpt) >= s.cfg.CheckpointInterval {
			pl.checkpoint(pctx)
		}
		s.m.lag.WithLabelValues(strconv.Itoa(p)).Set(float64(max(0, pl.hwm-pl.next)))
		s.m.checkpointAge.WithLabelValues(strconv.Itoa(p)).Set(time.Since(pl.lastCkpt).Seconds())
	}
	// The generation or the process is ending: publish, checkpoint and commit what was applied,
	// with a context of its own since pctx is done. The checkpoint is clean: nothing is
	// published after it, so the next owner need not recover.
	final, cancelFinal := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancelFinal()
	if err := pl.flush(final); err != nil {
		pl.log.Warn("final publish failed; the next owner replays from the last checkpoint", "err", brief(err))
		return
	}
	pl.checkpointAs(final, true)
	pl.log.Info("partition stopped", "offset", pl.next)
}

// restore loads the partition's checkpoint, or starts an empty engine at the committed offset,
// and decides whether the engine must recover (docs/reliability.md): it does unless the
// checkpoint is clean or the partition was never processed. Before it returns, the checkpoint
// topic says that this owner may publish: a first checkpoint for a partition never processed,
// or the restored one rewritten as not clean.
func (pl *partitionLoop) restore(ctx context.Context, committed int64) error {
	s := pl.s
	pl.ckpt = &checkpointer{kafka: s.kafka, topic: s.cfg.CheckpointTopic, input: s.cfg.Topic,
		partition: pl.partition, writer: s.checkpoints}
	var snap []byte
	var ok bool
	var first int64
	err := pl.retry(ctx, "reading the checkpoint", func() (err error) {
		snap, pl.next, ok, err = pl.ckpt.load(ctx, s.ckptPartitions)
		return err
	})
	if err == nil {
		err = pl.retry(ctx, "reading the partition's offsets", func() (err error) {
			first, pl.reconcileAt, err = s.kafka.Offsets(ctx, s.cfg.Topic, pl.partition)
			return err
		})
	}
	if err != nil {
		return err
	}
	pl.hwm = pl.reconcileAt
	pl.lastCkpt = time.Now()
	mustRecover := true
	if ok {
		pl.eng, err = engine.Restore(s.cfg.Engine, s.cfg.Now, snap)
		if err != nil {
			return err
		}
		pl.log.Info("restored checkpoint", "offset", pl.next, "bytes", len(snap), "clean", pl.ckpt.last.Clean)
		if mustRecover = !pl.ckpt.last.Clean; !mustRecover {
			err = pl.retry(ctx, "marking the checkpoint as in use", func() error { return pl.ckpt.markDirty(ctx) })
		}
	} else {
		pl.eng, err = engine.New(s.cfg.Engine, s.cfg.Now)
		if err != nil {
			return err
		}
		// With no checkpoint and no committed offset, no owner has published anything for this
		// partition: every owner writes a checkpoint before it publishes.
		mustRecover = committed >= 0
		pl.next = committed
		if pl.next < 0 {
			pl.next = first
		}
		snap := pl.eng.AppendSnapshot(nil)
		err = pl.retry(ctx, "writing the first checkpoint", func() error { return pl.ckpt.save(ctx, snap, pl.next, false) })
	}
	if err != nil {
		return err
	}
	if mustRecover {
		pl.eng.BeginRecovery()
	}
	if pl.eng.Recovering() {
		s.m.recoveries.Inc()
		s.m.recovering.Inc()
		pl.recovering = true
		pl.log.Info("recovering: the previous owner may have published after its checkpoint; "+
			"hours it may have published are withheld until the partition is read up to the offset", "offset", pl.reconcileAt)
	}
	return nil
}

// retry calls fn until it succeeds or ctx ends, waiting a second between attempts.
func (pl *partitionLoop) retry(ctx context.Context, what string, fn func() error) error {
	for {
		err := fn()
		if err == nil || ctx.Err() != nil {
			return err
		}
		pl.log.Warn(what+" failed; retrying", "err", brief(err))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// handle decodes and applies one message; a rejected one becomes a dead letter.
func (pl *partitionLoop) handle(m kafka.Message) {
	s := pl.s
	s.m.eventsIn.Inc()
	pl.next, pl.hwm = m.Offset+1, m.HighWaterMark
	if pl.caughtUp {
		pl.setCaughtUp(false) // published up to here only once flushed
	}
	key := m.Key
	if key == nil {
		key = []byte{} // a message without a key cannot be routed by project: a key mismatch
	}
	err := pl.dec.Decode(key, m.Value, &pl.ev)
	if err == nil {
		err = pl.eng.Apply(&pl.ev, m.Offset)
	}
	if err == nil {
		return
	}
	reason := event.ReasonNotJSON
	var ee *event.Error
	if errors.As(err, &ee) {
		reason = ee.Reason
	}
	s.m.rejected.WithLabelValues(reason.String()).Inc()
	pl.dead = append(pl.dead, kafka.Message{Key: m.Key, Value: m.Value, Headers: []kafka.Header{
		{Key: "reason", Value: []byte(reason.String())},
		{Key: "error", Value: []byte(err.Error())},
		{Key: "source-topic", Value: []byte(m.Topic)},
		{Key: "source-partition", Value: []byte(strconv.Itoa(m.Partition))},
		{Key: "source-offset", Value: []byte(strconv.FormatInt(m.Offset, 10))},
	}})
}

// flush advances the engine and publishes its results and the dead letters, waiting for the
// broker's acknowledgement. On failure nothing is dropped: the messages stay queued.
func (pl *partitionLoop) flush(ctx context.Context) error {
	s := pl.s
	caughtUp := pl.next >= pl.hwm
	if late := pl.eng.Late(); late > pl.late {
		s.m.lateCorrected.Add(float64(late - pl.late))
		pl.late = late
	}
	emit := func(r engine.Result) {
		k, v := results.Encode(results.Record{ProjectID: r.ProjectID, Domain: r.Domain, Hour: r.Hour,
			Peak: results.Peak{Count: r.Count, Minute: uint8((r.Minute - r.Hour) / 60)}, Final: r.Final, Tombstone: r.Tombstone})
		pl.out = append(pl.out, kafka.Message{Key: k, Value: v})
	}
	pl.eng.Flush(caughtUp, emit)
	if pl.eng.Recovering() && pl.next >= pl.reconcileAt {
		n := len(pl.out)
		pl.eng.Reconcile(emit)
		s.m.recoveryRecs.Add(float64(len(pl.out) - n))
		s.m.recovering.Dec()
		pl.recovering = false
		pl.log.Info("recovery done: republished every hour the previous owner may have published",
			"offset", pl.next, "records", len(pl.out)-n)
	}
	if len(pl.out) > 0 {
		if err := s.results.WriteMessages(ctx, pl.out...); err != nil {
			return err
		}
		s.m.published.Add(float64(len(pl.out)))
		clear(pl.out)
		pl.out = pl.out[:0]
	}
	if len(pl.dead) > 0 {
		if err := s.dlq.WriteMessages(ctx, pl.dead...); err != nil {
			return err
		}
		clear(pl.dead)
		pl.dead = pl.dead[:0]
	}
	pl.setCaughtUp(caughtUp)
	return nil
}

// setCaughtUp records whether everything up to the end of the partition is published, in the
// count behind Service.CaughtUp, and logs the first time a backlog has been worked off.
func (pl *partitionLoop) setCaughtUp(c bool) {
	if c == pl.caughtUp {
		return
	}
	if c && !pl.started.IsZero() {
		pl.log.Info("partition caught up: read to its end and published", "offset", pl.next,
			"messages", pl.backlog, "took", time.Since(pl.started).Round(time.Millisecond).String())
		pl.started = time.Time{}
	}
	pl.caughtUp = c
	if c {
		pl.s.caughtUp.Add(1)
	} else {
		pl.s.caughtUp.Add(-1)
	}
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

// flushRetrying flushes until it succeeds or ctx ends, waiting a second between attempts: while
// results or dead letters cannot be published, reading more would only grow the queues.
func (pl *partitionLoop) flushRetrying(ctx context.Context) bool {
	for {
		err := pl.flush(ctx)
		if err == nil {
			return true
		}
		pl.log.Warn("publishing failed; retrying", "err", brief(err))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

// checkpoint saves the engine with the next offset, then commits that offset. Call it right
// after a successful flush, so that everything the checkpoint covers is published.
func (pl *partitionLoop) checkpoint(ctx context.Context) { pl.checkpointAs(ctx, false) }

// checkpointAs is checkpoint; clean says that nothing will be published after it.
func (pl *partitionLoop) checkpointAs(ctx context.Context, clean bool) {
	s, p := pl.s, pl.partition
	if pl.next < 0 {
		return // nothing read yet
	}
	snap := pl.eng.AppendSnapshot(nil)
	if err := pl.ckpt.save(ctx, snap, pl.next, clean); err != nil {
		s.m.checkpointErrs.Inc()
		pl.log.Warn("checkpoint failed; offsets not committed", "err", brief(err))
		return
	}
	pl.lastCkpt = time.Now()
	s.m.checkpointSize.WithLabelValues(strconv.Itoa(p)).Set(float64(len(snap)))
	if err := pl.gen.CommitOffsets(map[string]map[int]int64{s.cfg.Topic: {p: pl.next}}); err != nil {
		// The checkpoint holds the offset: the next owner resumes from it whatever was committed.
		s.m.checkpointErrs.Inc()
		pl.log.Warn("commit failed after a checkpoint", "offset", pl.next, "err", brief(err))
	}
}

// brief shortens an error for a log line: kafka-go joins one error per message of a failed batch.
func brief(err error) string {
	const limit = 300
	if s := err.Error(); len(s) > limit {
		return s[:limit] + "…"
	}
	return err.Error()
}
