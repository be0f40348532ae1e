package ingest

import (
	"context"
	"time"

	"github.com/recordusage/recordusage/engine"
)

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
