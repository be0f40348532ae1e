package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/recordusage/recordusage/engine"
)

// restore loads the partition's checkpoint, or starts an empty engine at the committed offset,
// and decides whether the engine must recover (docs/reliability.md): it does unless the
// checkpoint is clean or the partition was never processed. The partition's offsets are read
// meanwhile.
//
// The owner must then say in the checkpoint topic that it may publish: a first checkpoint for
// a partition never processed, or the restored one rewritten as not clean. restore starts that
// write and returns without waiting for it, so that reading and applying overlap it; nothing is
// published before it is acknowledged (claimed), and ready is called then. When no write is
// needed (a checkpoint that is not clean says so already), ready is called before restore
// returns.
func (pl *partitionLoop) restore(ctx context.Context, committed int64, ready func()) error {
	s := pl.s
	pl.ckpt = &checkpointer{kafka: s.kafka, topic: s.cfg.CheckpointTopic, input: s.cfg.Topic,
		partition: pl.partition, inputPartitions: int(s.inputPartitions.Load()), writer: s.checkpoints}
	type offsets struct {
		first, next int64
		err         error
	}
	offs := make(chan offsets, 1)
	go func() {
		var o offsets
		o.err = pl.retry(ctx, "reading the partition's offsets", func() (err error) {
			o.first, o.next, err = s.kafka.Offsets(ctx, s.cfg.Topic, pl.partition)
			return err
		})
		offs <- o
	}()
	var snap []byte
	var ok bool
	err := pl.retry(ctx, "reading the checkpoint", func() (err error) {
		snap, pl.next, ok, err = pl.ckpt.load(ctx, s.ckptPartitions)
		return err
	})
	o := <-offs // returns at once when ctx ends
	if err = errors.Join(err, o.err); err != nil {
		return err
	}
	first := o.first
	pl.reconcileAt = o.next
	pl.hwm = pl.reconcileAt
	pl.lastCkpt = time.Now()
	pl.ownedAt = pl.lastCkpt // the generation that gave it the partition has just begun
	mustRecover := true
	var claim func() error // the write that says this owner may publish
	if ok {
		pl.eng, err = engine.Restore(s.cfg.Engine, pl.clock, snap)
		if err != nil {
			return err
		}
		pl.log.Info("restored checkpoint", "offset", pl.next, "bytes", len(snap), "clean", pl.ckpt.last.Clean)
		pl.checkPartitionCount(pl.ckpt.last.InputPartitions)
		pl.resumeWithin(first, o.next)
		if mustRecover = !pl.ckpt.last.Clean; !mustRecover {
			claim = func() error {
				return pl.retry(ctx, "marking the checkpoint as in use", func() error { return pl.ckpt.markDirty(ctx) })
			}
		}
	} else {
		pl.eng, err = engine.New(s.cfg.Engine, pl.clock)
		if err != nil {
			return err
		}
		// With no checkpoint and no committed offset, no owner has published anything for this
		// partition: every owner writes a checkpoint before it publishes.
		mustRecover = committed >= 0
		pl.next = committed
		if pl.next < 0 {
			pl.next = first
		} else if committed > first {
			pl.checkpointMissing(committed)
		}
		pl.resumeWithin(first, o.next)
		snap, next := pl.eng.AppendSnapshot(nil), pl.next // taken before anything is applied
		claim = func() error {
			return pl.retry(ctx, "writing the first checkpoint", func() error { return pl.ckpt.save(ctx, snap, next, false) })
		}
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
	if claim == nil {
		ready()
		return nil
	}
	// The checkpointer belongs to the write until it is acknowledged: claimed waits for it
	// before anything else uses the checkpointer.
	pl.claim = make(chan error, 1)
	go func() {
		err := claim()
		if err == nil {
			ready()
		}
		pl.claim <- err
	}()
	return nil
}

// claimed waits until the checkpoint topic says that this owner may publish, and returns
// the error of that write, which fails only when the partition's context ends. Call it before
// publishing anything or using the checkpointer.
func (pl *partitionLoop) claimed() error {
	if pl.claim != nil {
		pl.claimErr = <-pl.claim
		pl.claim = nil
	}
	return pl.claimErr
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

// clock is the engine's wall clock: the time the partition loop read when the message being
// applied arrived, or else the configured clock. The engine reads the clock for every event (the
// time rules), and the loop reads it for every message anyway (when to publish); on virtual
// machines without a fast clock source a read costs tens of nanoseconds, so they share it.
func (pl *partitionLoop) clock() time.Time {
	if !pl.at.IsZero() {
		return pl.at
	}
	return pl.s.cfg.Now()
}

// resumeWithin moves the offset to resume from, restored or committed, into the partition's
// messages, first..end, saying so when it is not there already (skipPastEnd, skipDeleted).
func (pl *partitionLoop) resumeWithin(first, end int64) {
	pl.skipPastEnd(first, end)
	pl.skipDeleted(first)
}

// skipDeleted moves the next offset to first, the partition's first offset, when the messages
// before it are gone: the topic's retention deleted them before this partition read them (an
// outage, or a lag, longer than the retention). Their events are missing from the results, and
// nothing can bring them back; it says so, in the log and the recordusage_events_lost_total
// metric, rather than skip them silently as kafka-go's reader would.
func (pl *partitionLoop) skipDeleted(first int64) {
	if pl.next >= first {
		return
	}
	lost := first - pl.next
	pl.s.m.lost.Add(float64(lost))
	pl.log.Error("input messages were deleted before they were read: their events are missing from the results; "+
		"keep the input topic's retention above the longest outage or lag of ingest",
		"from_offset", pl.next, "to_offset", first-1, "messages", lost)
	pl.next = first
}

// skipPastEnd handles a position to resume from that is past the partition's end: the input
// topic was deleted and created again since the position was saved (or the partition lost
// messages that had been read, as when a broker without replicas loses its disk). kafka-go's
// reader would wait there until the new partition reaches that offset, and skip everything
// before it. The partition is read from its first offset instead, on the restored state: an
// event seen before counts once (an exact duplicate has no effect), and one too late or too old
// for the state is dead-lettered.
func (pl *partitionLoop) skipPastEnd(first, end int64) {
	if pl.next <= end {
		return
	}
	pl.s.m.inputReset.Inc()
	pl.log.Error("the partition ends before the offset to resume from: the input topic was deleted and created again, "+
		"or lost messages; reading it again from its first offset, on the restored state",
		"offset", pl.next, "partition_end", end, "first_offset", first)
	pl.next = first
}

// checkGap is called when the next message read is at offset, more than one past pl.next: the
// messages between were deleted by the topic's retention while the partition lagged behind
// (skipDeleted says so), or were never there. A gap of one is not checked: it is a transaction
// marker for a reader that hides them (kafka-go's delivers them, for now: transactionMarker);
// a longer one costs a look-up of the partition's first offset, which a topic without deletions
// never needs.
func (pl *partitionLoop) checkGap(offset int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, _, err := pl.s.kafka.Offsets(ctx, pl.s.cfg.Topic, pl.partition)
	if err != nil {
		pl.log.Warn("messages were skipped, and the partition's first offset cannot be read to tell whether they were deleted",
			"from_offset", pl.next, "to_offset", offset-1, "err", brief(err))
		return
	}
	pl.skipDeleted(min(first, offset))
}

// checkPartitionCount compares the input topic's partition count when the restored checkpoint was
// written (0: unknown, an older checkpoint) with the count now. Kafka places a key by its hash
// modulo the count, so after partitions were added most projects' new events go to another
// partition than their earlier ones, and two partitions count them separately: the results are
// wrong for them, which nothing here can repair (docs/operations.md, Scaling out). The next
// checkpoint records the new count, so each partition says it once.
func (pl *partitionLoop) checkPartitionCount(was int) {
	now := pl.ckpt.inputPartitions
	if was == 0 || now == 0 || was == now {
		return
	}
	pl.s.m.partitionsChanged.Inc()
	pl.log.Error("the input topic's partition count changed since this partition's checkpoint: projects' events are now "+
		"split between partitions, which count them separately, and their results are wrong; make the producers place "+
		"keys by the old count, or move to a new topic (docs/operations.md, Scaling out)",
		"topic", pl.s.cfg.Topic, "partitions_before", was, "partitions_now", now)
}

// checkpointMissing says that the partition has a committed offset after its first one but no
// checkpoint. Offsets are committed only once a checkpoint holds the state up to them, so the
// checkpoint was lost (its topic deleted or emptied, or --checkpoint-topic changed), unless an
// operator deleted it on purpose and reset the offset (docs/operations.md, Recovering). The
// partition goes on from the committed offset with an empty state, so recordings open at that
// offset are missing from the results it publishes from now on. (An offset reset to the first one
// is the start of a full rebuild: nothing before it is left to miss.)
func (pl *partitionLoop) checkpointMissing(committed int64) {
	pl.s.m.checkpointsMissing.Inc()
	pl.log.Error("the partition has a committed offset but no checkpoint: unless it was deleted on purpose with the offset "+
		"reset, the checkpoint topic lost it (deleted, emptied, or --checkpoint-topic changed); going on from the committed "+
		"offset with an empty state, so recordings open there are missing from the results (docs/operations.md, Recovering)",
		"topic", pl.s.cfg.CheckpointTopic, "committed_offset", committed)
}
