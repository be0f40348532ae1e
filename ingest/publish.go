package ingest

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/results"
)

// handle decodes and applies one message; a rejected one becomes a dead letter.
func (pl *partitionLoop) handle(m kafka.Message) {
	s := pl.s
	if m.Offset > pl.next+1 {
		pl.checkGap(m.Offset)
	}
	pl.next, pl.hwm = m.Offset+1, m.HighWaterMark
	if pl.caughtUp {
		pl.setCaughtUp(false) // published up to here only once flushed
	}
	if marker, ok := transactionMarker(m); ok {
		pl.marker(m.Offset, marker)
		return
	}
	s.m.eventsIn.Inc()
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
	reason := event.ReasonInternal
	var ee *event.Error
	if errors.As(err, &ee) {
		reason = ee.Reason
	} else {
		// Not a rule of the contract: a bug. The message is kept in the dead-letter topic, so
		// nothing is lost, and the error is logged for a bug report.
		pl.log.Error("unexpected error applying a message; dead-lettered as internal_error", "offset", m.Offset, "err", err)
	}
	s.m.rejected.WithLabelValues(reason.String()).Inc()
	// The message as it came, its own headers (a trace id, the producer's) included, then ours:
	// a message put back into the input after a fix is the original one.
	headers := make([]kafka.Header, 0, len(m.Headers)+5)
	headers = append(headers, m.Headers...)
	headers = append(headers,
		kafka.Header{Key: "reason", Value: []byte(reason.String())},
		kafka.Header{Key: "error", Value: []byte(err.Error())},
		kafka.Header{Key: "source-topic", Value: []byte(m.Topic)},
		kafka.Header{Key: "source-partition", Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: "source-offset", Value: []byte(strconv.FormatInt(m.Offset, 10))})
	dead := kafka.Message{Key: m.Key, Value: m.Value, Headers: headers}
	fitDeadLetter(&dead, s.batchLimit[s.cfg.DLQTopic])
	pl.dead = append(pl.dead, dead)
}

// fitDeadLetter truncates the value of a dead letter that its topic would refuse, limit being the
// largest batch the topic accepts (0: unknown), so that one huge bad message cannot stop the
// partition: it keeps the first bytes and says so in a "truncated" header holding the original
// length. The whole message stays in the input at its source offset while the input's retention
// keeps it.
func fitDeadLetter(m *kafka.Message, limit int) {
	size := len(m.Key) + len(m.Value) + 64 // kafka-go's estimate of a record's framing is under 64 bytes
	for _, h := range m.Headers {
		size += len(h.Key) + len(h.Value) + 16
	}
	if limit <= 0 || size <= limit {
		return
	}
	n := len(m.Value)
	m.Headers = append(m.Headers, kafka.Header{Key: "truncated", Value: []byte(strconv.Itoa(n))})
	m.Value = m.Value[:max(0, n-(size-limit)-64)]
}

// flush advances the engine and publishes its results and the dead letters, waiting for the
// broker's acknowledgement. On failure nothing is dropped: the messages stay queued. It first
// waits until the checkpoint topic says that this owner may publish (restore's write).
func (pl *partitionLoop) flush(ctx context.Context) error {
	if err := pl.claimed(); err != nil {
		return err
	}
	s := pl.s
	caughtUp := pl.next >= pl.hwm
	if late := pl.eng.Late(); late > pl.late {
		s.m.lateCorrected.Add(float64(late - pl.late))
		pl.late = late
	}
	emit := func(r results.Record) {
		k, v := results.Encode(r)
		pl.out = append(pl.out, kafka.Message{Key: k, Value: v, Headers: pl.source})
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

// flushRetrying flushes until it succeeds or ctx ends, waiting a second between attempts: while
// results or dead letters cannot be published, reading more would only grow the queues. A
// flush that takes longer than the flush interval is an overrun: counted, and logged at debug.
func (pl *partitionLoop) flushRetrying(ctx context.Context) bool {
	return pl.retry(ctx, "publishing", func() error {
		start := time.Now()
		if err := pl.flush(ctx); err != nil {
			return err
		}
		took := time.Since(start)
		pl.s.m.flushDuration.Observe(took.Seconds())
		if took > pl.s.cfg.FlushInterval {
			pl.s.m.flushOverruns.Inc()
			pl.log.Debug("flush overran the flush interval", "took", took.String(), "interval", pl.s.cfg.FlushInterval.String())
		}
		return nil
	}) == nil
}

// checkpoint saves the engine with the next offset, then commits that offset. Call it right
// after a successful flush, so that everything the checkpoint covers is published.
func (pl *partitionLoop) checkpoint(ctx context.Context) { pl.checkpointAs(ctx, false) }

// checkpointAs is checkpoint; clean says that nothing will be published after it.
func (pl *partitionLoop) checkpointAs(ctx context.Context, clean bool) {
	if pl.claimed() != nil {
		return // nothing was published either
	}
	if pl.fenced() {
		return
	}
	s := pl.s
	start := time.Now()
	defer func() { s.m.checkpointTime.Observe(time.Since(start).Seconds()) }()
	snap := pl.eng.AppendSnapshot(nil)
	if err := pl.ckpt.save(ctx, snap, pl.next, clean); err != nil {
		if ctx.Err() != nil && !clean {
			// The partition is stopping: finish checkpoints again, with a context of its own.
			pl.log.Debug("checkpoint interrupted by the stop", "err", brief(err))
			return
		}
		s.m.checkpointErrs.Inc()
		pl.log.Warn("checkpoint failed; offsets not committed", "err", brief(err))
		return
	}
	pl.lastCkpt = time.Now()
	pl.m.checkpointSize.Set(float64(len(snap)))
	if err := pl.commit(pl.next); err != nil {
		// The checkpoint holds the offset: the next owner resumes from it whatever was committed.
		s.m.checkpointErrs.Inc()
		pl.log.Warn("commit failed after a checkpoint", "offset", pl.next, "err", brief(err))
	}
}

// transactionMarker reports whether m is a transaction marker, and which: the control record
// that a transaction's commit or abort writes into each partition the transaction wrote to.
// kafka-go's reader delivers it as a message (segmentio/kafka-go#1446): the key is the control
// record key (version 0, then type 0 for abort or 1 for commit), the value its version 0 and the
// coordinator's epoch. No event looks like it, since an event's value starts with '{'.
func transactionMarker(m kafka.Message) (string, bool) {
	k, v := m.Key, m.Value
	if len(k) != 4 || k[0] != 0 || k[1] != 0 || k[2] != 0 || k[3] > 1 || len(v) != 6 || v[0] != 0 || v[1] != 0 ||
		len(m.Headers) != 0 {
		return "", false
	}
	if k[3] == 0 {
		return "abort", true
	}
	return "commit", true
}

// marker counts a transaction marker, which is not an event. An abort is logged: kafka-go reads
// the messages of aborted transactions like any other (it does not filter them, whatever the
// isolation level), so their events were counted. Events that the producer sends again after
// the abort count once (an exact duplicate has no effect); events it never sends again stay
// counted.
func (pl *partitionLoop) marker(offset int64, marker string) {
	pl.s.m.markers.WithLabelValues(marker).Inc()
	if marker == "abort" {
		pl.log.Warn("the input holds an aborted transaction: its events were counted (kafka-go does not filter them); "+
			"they count once if the producer sends them again, which transactional producers do when they retry",
			"marker_offset", offset)
	}
}
