package loadgen

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress writes a run's progress: on a terminal, a line redrawn in place a few times a second;
// elsewhere (a file, a pipe, a log collector), a plain line every few seconds.
type progress struct {
	w        io.Writer // nil: no output
	terminal bool
	every    time.Duration
	start    time.Time
	last     time.Time // of the last line
	lastSent int64     // messages sent at the last line
	drawn    bool      // a terminal line is open (no newline yet)
}

func newProgress(w io.Writer, start time.Time) *progress {
	p := &progress{w: w, terminal: isTerminal(w), every: 5 * time.Second, start: start, last: start}
	if p.terminal {
		p.every = 200 * time.Millisecond
	}
	return p
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// due reports whether a line is due at now, and then starts the next period.
func (p *progress) due(now time.Time) bool {
	if p.w == nil || now.Sub(p.last) < p.every {
		return false
	}
	p.last = now
	return true
}

func (p *progress) line(s string) {
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", s)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, s)
}

// backfill writes the bar of a backfill that has done frac of its event-time span.
func (p *progress) backfill(now time.Time, st Stats, frac float64) {
	if !p.due(now) {
		return
	}
	const width = 24
	frac = min(max(frac, 0), 1)
	done := int(frac * width)
	elapsed := now.Sub(p.start)
	rate := float64(st.Sent) / max(elapsed.Seconds(), 1e-9)
	eta := "?"
	if frac > 0.001 {
		eta = (time.Duration(float64(elapsed) * (1 - frac) / frac)).Round(time.Second).String()
	}
	p.line(fmt.Sprintf("backfill [%s%s] %5.1f%%  %s msgs  %s msg/s  ETA %s  at %s",
		strings.Repeat("#", done), strings.Repeat("-", width-done), 100*frac,
		si(float64(st.Sent)), si(rate), eta, st.Frontier.Format("2006-01-02T15:04Z")))
}

// startLive makes the live rates count from now, not from the start of a backfill.
func (p *progress) startLive(now time.Time, sent int64) { p.last, p.lastSent = now, sent }

// live writes the status of live mode: what was sent, the rate since the last line, and the
// recordings open.
func (p *progress) live(now time.Time, st Stats) {
	prev, sent := p.last, p.lastSent
	if !p.due(now) {
		return
	}
	p.lastSent = st.Sent
	rate := float64(st.Sent-sent) / max(now.Sub(prev).Seconds(), 1e-9)
	p.line(fmt.Sprintf("live  %s  sent %s msgs  %s msg/s  %d recordings open  (%d duplicates, %d bad)",
		st.Frontier.Format("2006-01-02T15:04:05Z"), si(float64(st.Sent)), si(rate), st.Open,
		st.Duplicates, st.Bad))
}

// done ends the progress output with a summary line.
func (p *progress) done(st Stats) {
	if p.w == nil {
		return
	}
	if p.drawn {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "done: %d messages (%d events, %d duplicates, %d bad, %s) in %v, %s msg/s; %d recordings open at %s\n",
		st.Sent, st.Events, st.Duplicates, st.Bad, bytesSI(st.Bytes), st.Elapsed.Round(time.Millisecond),
		si(float64(st.Sent)/max(st.Elapsed.Seconds(), 1e-9)), st.Open, st.Frontier.Format(time.RFC3339))
}

// si formats x with a k or M suffix.
func si(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.0fk", x/1e3)
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

func bytesSI(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}
