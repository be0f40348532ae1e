package loadgen

import (
	"context"
	"io"
	"time"
)

// Stats counts what a run sent.
type Stats struct {
	// Sent is every message; Events, Duplicates and Bad split it by Kind.
	Sent, Events, Duplicates, Bad int64
	// Bytes is the sum of the message values.
	Bytes int64
	// Open is the number of recordings open at the end.
	Open int
	// Frontier is the event time up to which events have happened.
	Frontier time.Time
	// Elapsed is the run's duration on the clock.
	Elapsed time.Duration
}

// closeGrace is how long a write in flight may take once the run's context has ended, so that
// Ctrl-C flushes the last batch without hanging on a broker that is gone.
const closeGrace = 5 * time.Second

// Run generates the load of cfg into sink: a backfill, live, or a backfill then live. It writes
// progress to progress (nil for none): a bar redrawn on one line when progress is a terminal,
// a plain line every few seconds otherwise. It returns when the load is done, or with nil when
// ctx ends (the batch in flight is finished first, for at most five seconds), or with the
// sink's error.
func Run(ctx context.Context, cfg Config, sink Sink, progress io.Writer) (Stats, error) {
	g, err := New(cfg)
	if err != nil {
		return Stats{}, err
	}
	r := &runner{cfg: g.Config(), g: g, sink: sink, start: cfg.now()}
	r.lim = newLimiter(r.cfg.Rate, r.start)
	r.prog = newProgress(progress, r.start)
	r.batch = make([]Message, 0, r.cfg.BatchSize)

	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(closeGrace, cancel) })
	defer stop()

	if r.cfg.Mode == ModeBackfill {
		err = r.backfill(ctx, wctx)
	}
	if err == nil && ctx.Err() == nil && (r.cfg.Mode == ModeLive || r.cfg.ThenLive) {
		err = r.live(ctx, wctx)
	}
	st := r.stats(r.cfg.now())
	r.prog.done(st)
	return st, err
}

// runner is the state of one Run; it belongs to Run's goroutine.
type runner struct {
	cfg   Config
	g     *Generator
	sink  Sink
	start time.Time
	lim   limiter
	prog  *progress
	st    Stats

	batch []Message
	buf   []byte // the values of batch
}

// fill adds to the batch up to n messages due by until (with drain, every message left once the
// events up to until have happened) and reports whether it got all n.
func (r *runner) fill(until time.Time, drain bool, n int) bool {
	r.batch, r.buf = r.batch[:0], r.buf[:0]
	for len(r.batch) < n {
		var m Message
		var ok bool
		if drain {
			r.buf, ok = r.g.Drain(until, r.buf, &m)
		} else {
			r.buf, ok = r.g.Next(until, r.buf, &m)
		}
		if !ok {
			return false
		}
		r.batch = append(r.batch, m)
	}
	return true
}

// flush writes the batch to the sink and counts it.
func (r *runner) flush(wctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	if err := r.sink.Write(wctx, r.batch); err != nil {
		return err
	}
	r.lim.take(len(r.batch))
	for i := range r.batch {
		switch r.batch[i].Kind {
		case KindEvent:
			r.st.Events++
		case KindDuplicate:
			r.st.Duplicates++
		case KindBad:
			r.st.Bad++
		}
	}
	r.st.Sent += int64(len(r.batch))
	r.st.Bytes += int64(len(r.buf))
	return nil
}

// backfill sends the event times from From to To as fast as the rate allows. Before live mode
// it keeps the messages whose delivery time is after To; they go out live.
func (r *runner) backfill(ctx, wctx context.Context) error {
	from, to := r.cfg.From, r.cfg.To
	span := to.Sub(from)
	for ctx.Err() == nil {
		now := r.cfg.now()
		n := r.lim.allow(now, r.cfg.BatchSize)
		if n == 0 {
			if r.cfg.sleep(ctx, r.lim.wait()) != nil {
				return nil
			}
			continue
		}
		full := r.fill(to, !r.cfg.ThenLive, n)
		if err := r.flush(wctx); err != nil {
			return err
		}
		frac := float64(r.g.Frontier().Sub(from)) / float64(span)
		if !full {
			frac = 1
		}
		r.prog.backfill(now, r.stats(now), frac)
		if !full {
			return nil
		}
	}
	return nil
}

// live sends events as the clock reaches their delivery times, until Duration has passed on the
// clock or ctx ends.
func (r *runner) live(ctx, wctx context.Context) error {
	const maxWait = 250 * time.Millisecond // keeps the status line and Ctrl-C responsive
	liveStart := r.cfg.now()
	end := liveStart.Add(r.cfg.Duration)
	r.prog.startLive(liveStart, r.st.Sent)
	for ctx.Err() == nil {
		now := r.cfg.now()
		if r.cfg.Duration > 0 && !now.Before(end) {
			return nil
		}
		n := r.lim.allow(now, r.cfg.BatchSize)
		full := false
		if n > 0 {
			full = r.fill(now, false, n)
			if err := r.flush(wctx); err != nil {
				return err
			}
		}
		r.prog.live(now, r.stats(now))
		if full {
			continue
		}
		wait := maxWait
		if n == 0 {
			wait = min(wait, r.lim.wait())
		} else {
			wait = min(wait, r.g.NextDue().Sub(now))
		}
		if r.cfg.Duration > 0 {
			wait = min(wait, end.Sub(now))
		}
		if r.cfg.sleep(ctx, max(wait, time.Millisecond)) != nil {
			return nil
		}
	}
	return nil
}

func (r *runner) stats(now time.Time) Stats {
	st := r.st
	st.Open, st.Frontier, st.Elapsed = r.g.Open(), r.g.Frontier(), now.Sub(r.start)
	return st
}

// limiter is a token bucket of messages; a zero rate is unlimited.
type limiter struct {
	rate, burst, tokens float64
	last                time.Time
}

func newLimiter(rate float64, now time.Time) limiter {
	burst := max(1, rate/10)
	return limiter{rate: rate, burst: burst, tokens: burst, last: now}
}

// allow returns how many messages, at most n, may be sent now.
func (l *limiter) allow(now time.Time, n int) int {
	if l.rate == 0 {
		return n
	}
	if dt := now.Sub(l.last); dt > 0 {
		l.tokens = min(l.burst, l.tokens+l.rate*dt.Seconds())
		l.last = now
	}
	return int(min(float64(n), max(l.tokens, 0)))
}

// take spends the tokens of n messages sent.
func (l *limiter) take(n int) { l.tokens -= float64(n) }

// wait returns how long until one message may be sent, at least a millisecond: rounding must
// not make a caller spin.
func (l *limiter) wait() time.Duration {
	return max(time.Millisecond, time.Duration((1-l.tokens)/l.rate*float64(time.Second)))
}
