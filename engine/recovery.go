package engine

import "github.com/recordusage/recordusage/results"

// Recovery after a crash.
//
// An instance publishes results between its checkpoints. When it is killed, whatever it
// published after its last checkpoint is unknown to the instance that restores that checkpoint:
// the replay of the same events recomputes the same exact values, but an hour is only published
// when its value differs from what the engine itself last sent, so a value that the killed
// instance published and the replay never changes away from — typically an open recording
// extended to the wall clock whose stop arrived later, leaving an hour at 0 — would stay on the
// results topic for ever.
//
// The rule that fixes it: after BeginRecovery, every hour that a predecessor may have published
// (all hours not yet final, up to the hour of the wall clock plus the allowed clock skew, of
// every series) is *withheld*. Withheld hours are not published while the engine replays; when
// one becomes final during the replay it is published final (or deleted with a tombstone when it
// has no value) for every series, and once the engine has replayed everything the predecessor
// could have read, Reconcile publishes every withheld hour of every series — its current value,
// or a tombstone — and recovery ends. From then on the results topic holds, for every hour, what
// the engine holds, and the normal rule (publish on change) keeps it so. docs/reliability.md has
// the argument in full.

// BeginRecovery starts withholding the hours that a killed predecessor may have published after
// the state this engine was restored from (or, for an empty engine, after the offset it starts
// from). Call it right after New or Restore, before the first Apply; call Reconcile once the
// engine has applied every message that existed when recovery began. A recovery that is not
// finished is part of the snapshot, so a crash during recovery is recovered too.
func (e *Engine) BeginRecovery() {
	e.drain()
	// A predecessor publishes minutes up to its frontier, which is at most its wall clock's
	// current minute or its watermark; the watermark is at most the wall clock plus the allowed
	// clock skew, since later events are rejected.
	to := floorDiv(minuteOf(e.now().UnixNano()+int64(e.cfg.MaxClockSkew)), 60)
	if e.hasTime {
		to = max(to, floorDiv(e.frontier, 60))
	}
	if !e.recovering || to > e.withheldTo {
		e.withheldTo = to
	}
	e.recovering = true
}

// Recovering reports whether the engine withholds hours until Reconcile.
func (e *Engine) Recovering() bool { return e.recovering }

// withheld reports whether an hour is withheld by an unfinished recovery.
func (e *Engine) withheld(hour int64) bool { return e.recovering && hour <= e.withheldTo }

// Reconcile ends a recovery: it publishes every withheld hour of every series, with its current
// value, or as a tombstone when the engine has no value for it. Call it after a Flush, once the
// engine has applied every message that existed when recovery began.
func (e *Engine) Reconcile(emit func(results.Record)) {
	e.drain()
	if !e.recovering {
		return
	}
	e.recovering = false
	if !e.hasTime {
		return // no event since the restore, and the restored state had none: nothing published
	}
	e.publishWithheld(e.withheldTo, false, emit)
	e.freeUnusedSeries()
}

// finalizeWithheld publishes the final value of the withheld hours before finalTo for every
// series, a tombstone where a series has no value, and drops their state.
func (e *Engine) finalizeWithheld(finalTo int64, emit func(results.Record)) {
	e.publishWithheld(min(finalTo-1, e.withheldTo), true, emit)
}

// publishWithheld publishes the hours from the first non-final one through to of every series:
// the value of each, a tombstone where a series has none. A final hour's state is dropped; a
// provisional value is remembered as sent, so that later changes are published as usual.
func (e *Engine) publishWithheld(to int64, final bool, emit func(results.Record)) {
	for _, s := range e.series {
		if s == nil {
			continue
		}
		for hour := e.finalTo; hour <= to; hour++ {
			h := s.hours.get(hour)
			switch {
			case h == nil:
				emit(s.tombstone(hour))
			case final:
				emit(s.result(hour, h.w.Peak(), true))
				s.dropHour(hour, h)
			default:
				p := h.w.Peak()
				h.sent, h.sentOK = p, true
				emit(s.result(hour, p, false))
			}
		}
	}
}

// freeUnusedSeries frees the series that recovery kept although nothing refers to them any more.
func (e *Engine) freeUnusedSeries() {
	for sid, s := range e.series {
		if s != nil && s.refs == 0 && !s.live {
			e.freeSeries(uint32(sid))
		}
	}
}
