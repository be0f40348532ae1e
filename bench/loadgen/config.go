package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recordusage/recordusage/engine"
)

// Mode says how event times relate to the wall clock.
type Mode string

const (
	// ModeBackfill produces the event times from Config.From to Config.To as fast as allowed.
	ModeBackfill Mode = "backfill"
	// ModeLive produces events as the wall clock reaches their event times.
	ModeLive Mode = "live"
)

// Config shapes a load. Start from DefaultConfig; the zero value is not valid.
type Config struct {
	// Mode is ModeBackfill or ModeLive (default backfill).
	Mode Mode
	// ThenLive continues a backfill in live mode, with the sessions still open at its end
	// (requires ModeBackfill and a zero To).
	ThenLive bool
	// From is the first event time of a backfill (default: 24 hours before Now at Run).
	// It may not be more than 90 days back, less a margin of an hour: the engine dead-letters
	// events older than its retention.
	From time.Time
	// To ends a backfill (default: Now at Run); it may not be in the future.
	To time.Time
	// Duration limits the live phase, measured on the clock from its start; 0 runs until the
	// context ends.
	Duration time.Duration
	// Rate caps the messages sent per second; 0 is unlimited.
	Rate float64
	// Seed makes runs reproducible: the same seed, time range and population give the same
	// messages in a backfill.
	Seed uint64

	// Projects is the number of tenants (default 200).
	Projects int
	// Channels is the number of channels (streams) over all projects (default 5000); it must be
	// at least Projects.
	Channels int
	// ZipfExponent shapes project sizes: the project of rank r has about r^-s of the channels
	// (default 1.1).
	ZipfExponent float64
	// SessionsPerDay is the mean number of sessions a channel starts per day (default 6).
	SessionsPerDay float64
	// MedianSession is the median session duration (default 25m).
	MedianSession time.Duration
	// SessionSigma is the log-normal shape of durations (default 1.0: a tenth of the sessions
	// last over 1.5 hours, one in a hundred over 4).
	SessionSigma float64
	// MaxSession cuts the tail of durations (default 12h).
	MaxSession time.Duration
	// FileInterval is how often a recording completes a file (default 10m).
	FileInterval time.Duration
	// NewFileShare is the probability that a file completion is followed by a
	// RECORD_NEW_FILE_START (default 0.1).
	NewFileShare float64
	// FailShare is the probability that a recording stops with RECORD_FAILED (default 0.02).
	FailShare float64
	// RestartShare is the probability that a channel restarts within two minutes of a session's
	// end (default 0.15; 0.6 after a failure).
	RestartShare float64
	// FormatJitter bounds the difference between the starts (and stops) of a channel's formats
	// (default 3s).
	FormatJitter time.Duration
	// UTCOffset is the audience's time zone, for the day curve (default +8h).
	UTCOffset time.Duration

	// MaxDelay bounds the delivery delay of an event (default 30s); it may not exceed the
	// engine's correction horizon.
	MaxDelay time.Duration
	// DupShare is the share of messages that are exact duplicates (default 0.01).
	DupShare float64
	// BadShare is the share of messages that are bad (default 0).
	BadShare float64

	// BatchSize is the most messages handed to the Sink at once (default 5000).
	BatchSize int

	// Now is the wall clock (default time.Now).
	Now func() time.Time
	// Sleep waits for d or until ctx ends (default a timer). Tests inject it with Now.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultConfig returns the documented defaults: a backfill of the last 24 hours.
func DefaultConfig() Config {
	return Config{
		Mode: ModeBackfill, Seed: 1,
		Projects: 200, Channels: 5000, ZipfExponent: 1.1, SessionsPerDay: 6,
		MedianSession: 25 * time.Minute, SessionSigma: 1.0, MaxSession: 12 * time.Hour,
		FileInterval: 10 * time.Minute, NewFileShare: 0.1, FailShare: 0.02, RestartShare: 0.15,
		FormatJitter: 3 * time.Second, UTCOffset: 8 * time.Hour,
		MaxDelay: 30 * time.Second, DupShare: 0.01,
		BatchSize: 5000,
	}
}

// maxLookback is how far back a backfill may start: the engine's retention less a margin, so
// that the first events are not too old by the time they are consumed.
const maxLookback = 90*24*time.Hour - time.Hour

// Validate reports the first invalid setting. A zero From or To is valid (resolved at Run).
func (c Config) Validate() error {
	now := c.now()
	horizon := engine.DefaultConfig().CorrectionHorizon
	switch {
	case c.Mode != ModeBackfill && c.Mode != ModeLive:
		return fmt.Errorf("loadgen: mode %q is neither %q nor %q", c.Mode, ModeBackfill, ModeLive)
	case c.ThenLive && c.Mode != ModeBackfill:
		return errors.New("loadgen: then-live continues a backfill; use it with mode backfill")
	case c.ThenLive && !c.To.IsZero():
		return errors.New("loadgen: then-live needs the backfill to end now; leave --to empty")
	case !c.From.IsZero() && now.Sub(c.From) > maxLookback:
		return fmt.Errorf("loadgen: from %s is more than %v back; the engine dead-letters events older than 90 days",
			c.From.UTC().Format(time.RFC3339), maxLookback)
	case !c.To.IsZero() && c.To.After(now):
		return fmt.Errorf("loadgen: to %s is in the future", c.To.UTC().Format(time.RFC3339))
	case !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To):
		return errors.New("loadgen: from must be before to")
	case c.Duration < 0 || c.Rate < 0:
		return errors.New("loadgen: duration and rate may not be negative")
	case c.Projects < 1 || c.Channels < c.Projects:
		return fmt.Errorf("loadgen: need at least one project and a channel per project (projects %d, channels %d)",
			c.Projects, c.Channels)
	case c.Projects > 1_000_000 || c.Channels > 100_000_000:
		return errors.New("loadgen: at most a million projects and 100 million channels")
	case c.ZipfExponent < 0 || c.SessionsPerDay <= 0 || c.SessionSigma < 0:
		return errors.New("loadgen: zipf exponent and session sigma may not be negative, sessions per day must be positive")
	case c.MedianSession < time.Second || c.MaxSession < c.MedianSession:
		return errors.New("loadgen: median session must be at least 1s and at most max session")
	case c.FileInterval < time.Second:
		return errors.New("loadgen: file interval must be at least 1s")
	case c.FormatJitter < 0 || c.FormatJitter > time.Minute:
		return errors.New("loadgen: format jitter must be between 0 and 1m")
	case c.UTCOffset <= -24*time.Hour || c.UTCOffset >= 24*time.Hour:
		return errors.New("loadgen: utc offset must be within a day")
	case c.MaxDelay < 0 || c.MaxDelay > horizon:
		return fmt.Errorf("loadgen: max delay %v must be between 0 and the engine's correction horizon %v", c.MaxDelay, horizon)
	case !share(c.NewFileShare) || !share(c.FailShare) || !share(c.RestartShare):
		return errors.New("loadgen: new-file, fail and restart shares must be between 0 and 1")
	case !share(c.DupShare) || !share(c.BadShare) || c.DupShare+c.BadShare > 0.5:
		return errors.New("loadgen: dup and bad shares must be between 0 and 1 and sum to at most 0.5")
	case c.BatchSize < 1:
		return errors.New("loadgen: batch size must be at least 1")
	}
	return nil
}

func share(x float64) bool { return x >= 0 && x <= 1 }

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resolve fills From and To from the clock for a run that starts now.
func (c Config) resolve() Config {
	now := c.now()
	if c.Mode == ModeLive {
		c.From, c.To = now.Truncate(time.Millisecond), time.Time{}
		return c
	}
	if c.To.IsZero() {
		c.To = now
	}
	if c.From.IsZero() {
		c.From = c.To.Add(-24 * time.Hour)
	}
	// Event times are cut to the millisecond; so is From, so that none is before it.
	c.From = c.From.Truncate(time.Millisecond)
	return c
}
