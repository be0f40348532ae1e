package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/internal/reference"
)

// scenario drives one engine with a controllable wall clock and keeps the emitted results.
type scenario struct {
	t     *testing.T
	e     *Engine
	clock time.Time
	out   *collector
	off   int64
}

func newScenario(t *testing.T, clock string) *scenario {
	s := &scenario{t: t, clock: at(t, clock), out: newCollector()}
	e, err := New(DefaultConfig(), func() time.Time { return s.clock })
	require.NoError(t, err)
	s.e = e
	return s
}

func at(t *testing.T, s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm
}

// send applies one event of recording (project, domain, stream, format) and requires success.
func (s *scenario) send(typ event.Type, when, project, domain, stream, format string) {
	s.t.Helper()
	require.NoError(s.t, s.sendErr(typ, when, project, domain, stream, format))
}

func (s *scenario) sendErr(typ event.Type, when, project, domain, stream, format string) error {
	s.off++
	return s.e.Apply(&event.Event{ProjectID: []byte(project), PublishDomain: []byte(domain),
		App: []byte("live"), Stream: []byte(stream), RecordFormat: []byte(format),
		Type: typ, Time: at(s.t, when).UnixNano()}, s.off)
}

func (s *scenario) flush(caughtUp bool) { s.e.Flush(caughtUp, s.out.emit) }

// hour returns the current value of an hour: its count and peak minute as RFC 3339.
func (s *scenario) hour(project, domain, hour string) (uint32, string) {
	s.t.Helper()
	h := at(s.t, hour)
	p := s.out.peak(reference.Key(project, domain, h.Unix()))
	return p.Count, h.Add(time.Duration(p.Minute) * time.Minute).Format(time.RFC3339)
}

func (s *scenario) requireHour(project, domain, hour string, count uint32, minute string) {
	s.t.Helper()
	c, m := s.hour(project, domain, hour)
	require.Equal(s.t, count, c, "count of %s %q/%q", hour, project, domain)
	require.Equal(s.t, minute, m, "peak minute of %s %q/%q", hour, project, domain)
}

const (
	start = event.RecordStart
	over  = event.RecordOver
)

func TestEdgeCases(t *testing.T) {
	t.Run("a session across the hour counts in both hours", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T07:59:30Z", "p", "d", "s", "HLS")
		s.send(over, "2026-11-25T08:00:10Z", "p", "d", "s", "HLS")
		s.send(start, "2026-11-25T09:10:00Z", "p", "d", "other", "") // moves the watermark on
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T07:00:00Z", 1, "2026-11-25T07:59:00Z")
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:00:00Z")
		s.requireHour("p", "d", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:00:00Z")
	})
	t.Run("a stop exactly at 08:00:00 counts in minute 08:00", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T07:30:00Z", "p", "d", "s", "")
		s.send(over, "2026-11-25T08:00:00Z", "p", "d", "s", "")
		s.send(start, "2026-11-25T09:10:00Z", "p", "d", "other", "")
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:00:00Z")
	})
	t.Run("two formats of one stream count twice", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T08:10:00Z", "p", "d", "s", "HLS")
		s.send(start, "2026-11-25T08:10:05Z", "p", "d", "s", "FLV")
		s.send(over, "2026-11-25T08:20:00Z", "p", "d", "s", "HLS")
		s.send(over, "2026-11-25T08:20:00Z", "p", "d", "s", "FLV")
		s.send(start, "2026-11-25T09:10:00Z", "p", "d", "other", "")
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 2, "2026-11-25T08:10:00Z")
	})
	t.Run("the same stream under two domains counts twice", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T08:10:00Z", "p", "a.com", "s", "")
		s.send(start, "2026-11-25T08:11:00Z", "p", "b.com", "s", "")
		s.send(start, "2026-11-25T09:10:00Z", "p", "c.com", "other", "")
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 2, "2026-11-25T08:11:00Z")
		s.requireHour("p", "a.com", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:10:00Z")
		s.requireHour("p", "b.com", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:11:00Z")
	})
	t.Run("a restart within the same minute counts once", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T08:10:00Z", "p", "d", "s", "")
		s.send(over, "2026-11-25T08:15:10Z", "p", "d", "s", "")
		s.send(start, "2026-11-25T08:15:40Z", "p", "d", "s", "")
		s.send(over, "2026-11-25T08:20:00Z", "p", "d", "s", "")
		s.send(start, "2026-11-25T09:10:00Z", "p", "d", "other", "")
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:10:00Z")
	})
	t.Run("the max tie goes to the earliest minute", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T08:40:00Z", "p", "d", "late", "")
		s.send(over, "2026-11-25T08:41:00Z", "p", "d", "late", "")
		s.send(start, "2026-11-25T08:05:00Z", "p", "d", "early", "")
		s.send(over, "2026-11-25T08:05:30Z", "p", "d", "early", "")
		s.send(start, "2026-11-25T09:10:00Z", "p", "d", "other", "")
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:05:00Z")
	})
	t.Run("an hour with no activity is 0 at hh:00", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T08:00:00Z", "p", "d", "s", "")
		s.send(over, "2026-11-25T08:01:00Z", "p", "d", "s", "")
		s.send(start, "2026-11-25T10:30:00Z", "p", "d", "s", "")
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T09:00:00Z", 0, "2026-11-25T09:00:00Z")
	})
	t.Run("an open recording counts up to the wall clock while caught up", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T08:00:00Z")
		s.send(start, "2026-11-25T08:00:00Z", "p", "d", "s", "")
		s.flush(true)
		s.clock = at(t, "2026-11-25T10:30:00Z") // no events for 2.5 hours
		s.flush(true)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:00:00Z")
		s.requireHour("p", "", "2026-11-25T09:00:00Z", 1, "2026-11-25T09:00:00Z")
		s.requireHour("p", "", "2026-11-25T10:00:00Z", 1, "2026-11-25T10:00:00Z")
		f, _ := s.e.Frontier()
		require.Equal(t, at(t, "2026-11-25T10:30:00Z"), f, "extended through the wall clock's current minute")
	})
	t.Run("a start read while caught up is published in the current minute, and later events correct it", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T10:17:20Z")
		s.send(start, "2026-11-25T09:00:00Z", "p", "d", "old", "") // earlier activity: a watermark
		s.send(over, "2026-11-25T09:05:00Z", "p", "d", "old", "")
		s.flush(true)
		s.requireHour("p", "", "2026-11-25T10:00:00Z", 0, "2026-11-25T10:00:00Z")
		s.send(start, "2026-11-25T10:17:05Z", "p", "d", "s", "")
		s.flush(true) // the same wall-clock minute: the lateness does not delay it
		s.requireHour("p", "", "2026-11-25T10:00:00Z", 1, "2026-11-25T10:17:00Z")
		s.send(start, "2026-11-25T10:17:10Z", "p", "d", "s2", "")
		s.flush(true)
		s.requireHour("p", "d", "2026-11-25T10:00:00Z", 2, "2026-11-25T10:17:00Z")
		// A minute later, open recordings still count, without events.
		s.clock = at(t, "2026-11-25T10:18:01Z")
		s.flush(true)
		f, _ := s.e.Frontier()
		require.Equal(t, at(t, "2026-11-25T10:18:00Z"), f)
		// A late start (behind the published minutes, within the lateness) corrects them.
		s.send(start, "2026-11-25T10:16:30Z", "p", "d", "s3", "")
		s.flush(true)
		s.requireHour("p", "", "2026-11-25T10:00:00Z", 3, "2026-11-25T10:17:00Z")
		// Late stops: s leaves minute 18, and s3 lasted ten seconds, in minute 16 only.
		s.send(over, "2026-11-25T10:17:30Z", "p", "d", "s", "")
		s.send(over, "2026-11-25T10:16:40Z", "p", "d", "s3", "")
		s.flush(true)
		s.requireHour("p", "", "2026-11-25T10:00:00Z", 2, "2026-11-25T10:17:00Z")
		require.Equal(t, uint64(5), s.e.Late(), "each event at or behind the published minute corrected it")
	})
	t.Run("after a pause a backlog of hours-old events corrects the extended minutes", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T08:00:00Z")
		s.send(start, "2026-11-25T08:00:00Z", "p", "d", "s", "")
		s.send(start, "2026-11-25T08:00:00Z", "p", "d", "s2", "")
		s.flush(true)
		s.clock = at(t, "2026-11-25T11:00:00Z") // the producer was down for three hours
		s.flush(true)
		s.requireHour("p", "", "2026-11-25T10:00:00Z", 2, "2026-11-25T10:00:00Z")
		// The backlog: s stopped at 08:30, s2 at 09:15; both hours old against the wall clock.
		require.NoError(t, s.sendErr(over, "2026-11-25T08:30:00Z", "p", "d", "s", ""), "not rejected as late")
		require.NoError(t, s.sendErr(over, "2026-11-25T09:15:00Z", "p", "d", "s2", ""))
		s.send(start, "2026-11-25T09:40:00Z", "p", "d", "s3", "")
		s.flush(true)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 2, "2026-11-25T08:00:00Z")
		s.requireHour("p", "", "2026-11-25T09:00:00Z", 1, "2026-11-25T09:00:00Z")
		s.requireHour("p", "", "2026-11-25T10:00:00Z", 1, "2026-11-25T10:00:00Z") // only s3 now
	})
	t.Run("a publish domain is case-insensitive", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		s.send(start, "2026-11-25T08:10:00Z", "p", "Push.Example.COM", "s", "")
		s.send(over, "2026-11-25T08:20:00Z", "p", "push.example.com", "s", "") // the same recording
		s.send(start, "2026-11-25T09:10:00Z", "p", "push.example.com", "other", "")
		s.flush(false)
		s.requireHour("p", "push.example.com", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:10:00Z")
		s.requireHour("p", "Push.Example.COM", "2026-11-25T08:00:00Z", 0, "2026-11-25T08:00:00Z")
		require.Equal(t, 2, s.e.Stats().Recordings, "s in either case is one recording, plus other")
	})
	t.Run("duplicates have no effect", func(t *testing.T) {
		s := newScenario(t, "2026-11-25T12:00:00Z")
		for range 3 {
			s.send(start, "2026-11-25T08:10:00Z", "p", "d", "s", "")
			s.send(over, "2026-11-25T08:12:00Z", "p", "d", "s", "")
		}
		s.send(start, "2026-11-25T09:10:00Z", "p", "d", "other", "")
		s.flush(false)
		s.requireHour("p", "", "2026-11-25T08:00:00Z", 1, "2026-11-25T08:10:00Z")
		require.Equal(t, uint64(4), s.e.Stats().Duplicates)
	})
}

func TestRejections(t *testing.T) {
	reason := func(err error) event.Reason {
		var ee *event.Error
		if errors.As(err, &ee) {
			return ee.Reason
		}
		return event.ReasonNone
	}
	s := newScenario(t, "2026-11-25T12:00:00Z")
	require.Equal(t, event.ReasonFuture, reason(s.sendErr(start, "2026-11-25T12:05:01Z", "p", "d", "s", "")))
	require.Equal(t, event.ReasonNone, reason(s.sendErr(start, "2026-11-25T12:04:59Z", "p", "d", "s", "")))
	require.Equal(t, event.ReasonTooOld, reason(s.sendErr(start, "2026-08-01T00:00:00Z", "p", "d", "s", "")))
	// The watermark is 12:02:59; the horizon reaches back to 10:02:59.
	require.Equal(t, event.ReasonTooLate, reason(s.sendErr(over, "2026-11-25T10:02:58Z", "p", "d", "s", "")))
	require.Equal(t, event.ReasonNone, reason(s.sendErr(over, "2026-11-25T10:03:00Z", "p", "d", "x", "")))
}

func TestFinalAndRelease(t *testing.T) {
	s := newScenario(t, "2026-11-25T23:00:00Z")
	s.send(start, "2026-11-25T08:10:00Z", "p", "d", "s", "")
	s.send(over, "2026-11-25T08:20:00Z", "p", "d", "s", "")
	s.flush(false)
	r := s.out.last[reference.Key("p", "", at(t, "2026-11-25T08:00:00Z").Unix())]
	require.False(t, r.Final)
	// 08:00–09:00 is final once the watermark passes 11:00 (hour end + horizon).
	s.send(start, "2026-11-25T11:02:00Z", "p", "d", "s2", "")
	s.flush(false)
	require.False(t, s.out.last[reference.Key("p", "", at(t, "2026-11-25T08:00:00Z").Unix())].Final)
	s.send(start, "2026-11-25T11:02:01Z", "q", "d", "s", "")
	s.flush(false)
	r = s.out.last[reference.Key("p", "", at(t, "2026-11-25T08:00:00Z").Unix())]
	require.True(t, r.Final)
	require.Equal(t, uint32(1), r.Peak.Count)
	st := s.e.Stats()
	require.Equal(t, 2, st.Recordings, "the stopped recording's state is released once it falls behind the horizon")
}

// TestHourlySweep shows the hourly pass doing, without Stats or a snapshot forcing it, what the
// per-minute release used to: finished recordings are dropped once their events fall behind the
// horizon, a long-running one keeps only its folded state, and a recording that restarts more
// often than a history block holds keeps the events of the horizon and one hour at most.
func TestHourlySweep(t *testing.T) {
	s := newScenario(t, "2026-11-25T23:00:00Z")
	base := at(t, "2026-11-25T08:00:00Z")
	ts := func(d time.Duration) string { return base.Add(d).Format(time.RFC3339) }
	for i := range 50 { // 50 short recordings, all over by 08:30
		stream := "short" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		s.send(start, ts(time.Duration(i)*time.Second), "p", "d", stream, "")
		s.send(over, ts(30*time.Minute), "p", "d", stream, "")
	}
	s.send(start, ts(0), "p", "d", "long", "")
	// One restart a minute for six hours: a history block holds 10 events.
	for m := range 6 * 60 {
		s.send(start, ts(time.Duration(m)*time.Minute), "p", "d", "busy", "")
		s.send(over, ts(time.Duration(m)*time.Minute+30*time.Second), "p", "d", "busy", "")
		if m%10 == 9 {
			s.flush(false)
		}
	}
	s.flush(false)
	recordings, _ := s.e.Held()
	require.Equal(t, 2, recordings, "the short recordings are dropped by the hourly pass")
	// The watermark is 13:57:30; the horizon starts at 11:57:30, and the last pass folded what was
	// before 11:00 at the latest (once an hour).
	busy, ok := s.e.dict.lookup([]byte("\x01p\x01d\x04live\x04busy\x00"), s.e.recs)
	require.True(t, ok)
	hist := s.e.history(&s.e.recs[busy])
	require.LessOrEqual(t, len(hist), 2*(3*60+2), "busy keeps at most the horizon, the lateness and an hour of events")
	require.GreaterOrEqual(t, minuteOf(hist[0].time), s.e.swept)
	long, ok := s.e.dict.lookup([]byte("\x01p\x01d\x04live\x04long\x00"), s.e.recs)
	require.True(t, ok)
	require.Equal(t, uint32(0), s.e.recs[long].hist, "long's start is folded into its state")
	require.Equal(t, base.UnixNano(), s.e.recs[long].cur)
	s.requireHour("p", "", "2026-11-25T12:00:00Z", 2, "2026-11-25T12:00:00Z")
}
