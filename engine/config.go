package engine

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the time rules of CONTRACT.md §4. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// Lateness is subtracted from the largest event time seen to get the event watermark
	// (default 2m). It does not delay live values: while the partition is caught up, minutes
	// through the wall clock's current minute are published.
	Lateness time.Duration
	// CorrectionHorizon is how far behind the watermark an event may arrive and still be applied
	// (default 2h). An hour is final once the watermark is past its end plus this horizon.
	CorrectionHorizon time.Duration
	// MaxClockSkew is how far ahead of the wall clock an event time may be (default 5m).
	MaxClockSkew time.Duration
	// Retention is how old, against the wall clock, an event may be (default 90 days).
	Retention time.Duration
}

// DefaultConfig returns the defaults of CONTRACT.md §4.
func DefaultConfig() Config {
	return Config{
		Lateness:          2 * time.Minute,
		CorrectionHorizon: 2 * time.Hour,
		MaxClockSkew:      5 * time.Minute,
		Retention:         90 * 24 * time.Hour,
	}
}

// Validate reports the first rule the configuration breaks.
func (c Config) Validate() error {
	switch {
	case c.Lateness < 0:
		return fmt.Errorf("engine: lateness %v is negative", c.Lateness)
	case c.CorrectionHorizon < time.Minute:
		return fmt.Errorf("engine: correction horizon %v is under one minute", c.CorrectionHorizon)
	case c.MaxClockSkew < 0:
		return fmt.Errorf("engine: max clock skew %v is negative", c.MaxClockSkew)
	case c.Retention < c.CorrectionHorizon:
		return fmt.Errorf("engine: retention %v is shorter than the correction horizon %v", c.Retention, c.CorrectionHorizon)
	}
	return nil
}

// ErrBadSnapshot is returned when a snapshot cannot be decoded.
var ErrBadSnapshot = errors.New("engine: bad snapshot")
