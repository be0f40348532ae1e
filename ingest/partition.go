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

	eng      *engine.Engine
	ckpt     *checkpointer
	next     int64 // offset of the next message to apply
	hwm      int64 // high watermark seen with the last message
	dec      event.Decoder
	ev       event.Event
	out      []kafka.Message // results not yet published
	dead     []kafka.Message // dead letters not yet published
	lastCkpt time.Time
	late     uint64 // engine's late count already added to the metric
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

	if err := pl.restore(pctx, committed); err != nil {
		if pctx.Err() == nil {
			// Starting empty would publish wrong results: stay stopped, visible in the lag metric.
			pl.log.Error("cannot restore the partition's checkpoint; not consuming it", "err", brief(err))
			<-pctx.Done()
		}
		return
	}
	ready()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.cfg.Brokers, Topic: s.cfg.Topic, Partition: p,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond})
	defer kafkax.CloseReader(r)
	if err := r.SetOffset(pl.next); err != nil {
		pl.log.Error("cannot seek", "offset", pl.next, "err", brief(err))
		return
	}
	pl.log.Info("partition started", "offset", pl.next)
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
		if time.Since(lastFlush) < s.cfg.FlushInterval && err == nil && len(pl.out)+len(pl.dead) < 10_000 {
			continue
		}
		lastFlush = time.Now()
		window.reset(pctx, lastFlush.Add(s.cfg.FlushInterval))
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
	// with a context of its own since pctx is done.
	final, cancelFinal := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancelFinal()
	if err := pl.flush(final); err != nil {
		pl.log.Warn("final publish failed; the next owner replays from the last checkpoint", "err", brief(err))
		return
	}
	pl.checkpoint(final)
	pl.log.Info("partition stopped", "offset", pl.next)
}

// restore loads the partition's checkpoint, or starts an empty engine at the committed offset.
func (pl *partitionLoop) restore(ctx context.Context, committed int64) error {
	s := pl.s
	pl.ckpt = &checkpointer{brokers: s.cfg.Brokers, topic: s.cfg.CheckpointTopic, input: s.cfg.Topic,
		partition: pl.partition, writer: s.checkpoints}
	var snap []byte
	var ok bool
	var err error
	for {
		snap, pl.next, ok, err = pl.ckpt.load(ctx, s.ckptPartitions)
		if err == nil || ctx.Err() != nil {
			break
		}
		pl.log.Warn("reading the checkpoint failed; retrying", "err", brief(err))
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return err
	}
	pl.lastCkpt = time.Now()
	if ok {
		pl.eng, err = engine.Restore(s.cfg.Engine, s.cfg.Now, snap)
		if err != nil {
			return err
		}
		pl.log.Info("restored checkpoint", "offset", pl.next, "bytes", len(snap))
		return nil
	}
	pl.eng, err = engine.New(s.cfg.Engine, s.cfg.Now)
	pl.next = committed
	if pl.next < 0 {
		pl.next = kafka.FirstOffset
	}
	return err
}

// handle decodes and applies one message; a rejected one becomes a dead letter.
func (pl *partitionLoop) handle(m kafka.Message) {
	s := pl.s
	s.m.eventsIn.Inc()
	pl.next, pl.hwm = m.Offset+1, m.HighWaterMark
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
	pl.eng.Flush(caughtUp, func(r engine.Result) {
		k, v := results.Encode(r)
		pl.out = append(pl.out, kafka.Message{Key: k, Value: v})
	})
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
	return nil
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
func (pl *partitionLoop) checkpoint(ctx context.Context) {
	s, p := pl.s, pl.partition
	if pl.next < 0 {
		return // nothing read yet
	}
	snap := pl.eng.AppendSnapshot(nil)
	if err := pl.ckpt.save(ctx, snap, pl.next); err != nil {
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
