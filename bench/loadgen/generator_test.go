package loadgen

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/event"
)

func TestSameSeedSameBackfill(t *testing.T) {
	cfg := testConfig(6 * time.Hour)
	cfg.BadShare = 0.01
	a, _ := runCollect(t, cfg)
	b, _ := runCollect(t, cfg)
	require.Greater(t, len(a), 1000)
	require.Equal(t, len(a), len(b))
	for i := range a {
		require.Equal(t, a[i].Message, b[i].Message, "message %d", i)
	}
	cfg.Seed = 2
	c, _ := runCollect(t, cfg)
	same := len(a) == len(c)
	for i := 0; same && i < len(a); i++ {
		same = bytes.Equal(a[i].Value, c[i].Value)
	}
	require.False(t, same, "another seed gives another load")
}

func TestMessagesDecodeOrFailAsIntended(t *testing.T) {
	cfg := testConfig(24 * time.Hour)
	cfg.DupShare, cfg.BadShare = 0.05, 0.03
	msgs, st := runCollect(t, cfg)
	require.Greater(t, len(msgs), 20_000)
	var d event.Decoder
	firsts := map[string]bool{}
	reasons := map[event.Reason]int{}
	counts := map[Kind]int{}
	for _, m := range msgs {
		counts[m.Kind]++
		var ev event.Event
		err := d.Decode(m.Key, m.Value, &ev)
		switch m.Kind {
		case KindEvent, KindDuplicate:
			require.NoError(t, err, string(m.Value))
			require.Equal(t, string(m.Key), string(ev.ProjectID))
			require.Equal(t, m.EventTime.UnixNano(), ev.Time)
			require.NotEmpty(t, ev.EventID)
			if m.Kind == KindEvent {
				require.False(t, firsts[string(m.Value)], "a first delivery is unique: %s", m.Value)
				firsts[string(m.Value)] = true
			}
		case KindBad:
			var e *event.Error
			require.True(t, errors.As(err, &e), "bad message decodes: %s", m.Value)
			require.NotEmpty(t, e.Msg)
			reasons[e.Reason]++
		}
	}
	for _, m := range msgs {
		if m.Kind == KindDuplicate {
			require.True(t, firsts[string(m.Value)], "a duplicate is an exact copy of an event: %s", m.Value)
		}
	}
	require.ElementsMatch(t, []event.Reason{event.ReasonNotJSON, event.ReasonMissingField,
		event.ReasonUnknownEventType, event.ReasonInvalidTime, event.ReasonKeyMismatch}, keys(reasons))
	n := float64(len(msgs))
	require.InEpsilon(t, cfg.DupShare, float64(counts[KindDuplicate])/n, 0.1)
	require.InEpsilon(t, cfg.BadShare, float64(counts[KindBad])/n, 0.1)
	require.Equal(t, st.Duplicates, int64(counts[KindDuplicate]))
	require.Equal(t, st.Bad, int64(counts[KindBad]))
}

func keys[K comparable, V any](m map[K]V) []K {
	var ks []K
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestSessionsAreWellFormedAndDisorderBounded(t *testing.T) {
	const span = 48 * time.Hour
	cfg := testConfig(span)
	msgs, st := runCollect(t, cfg)

	// Delivery order: an event is never delivered more than MaxDelay after a later one, and
	// every event time is inside the backfill.
	var latest int64
	for i, m := range msgs {
		et := m.EventTime.UnixNano()
		require.GreaterOrEqual(t, et, cfg.From.UnixNano(), "message %d", i)
		require.LessOrEqual(t, et, cfg.To.UnixNano(), "message %d", i)
		latest = max(latest, et)
		require.LessOrEqual(t, latest-et, int64(cfg.MaxDelay), "message %d is %v late", i, time.Duration(latest-et))
	}

	sessions := sessionsOf(t, goodEvents(t, msgs))
	open := 0
	for _, s := range sessions {
		if s.stop == 0 {
			open++
		}
	}
	require.Equal(t, st.Open, open, "recordings open at the end")

	// Durations: sessions that started in the backfill (not already running at its start) and
	// early enough to have ended whatever their length.
	var durs []time.Duration
	for _, s := range sessions {
		if s.start > cfg.From.Add(10*time.Second).UnixNano() && s.start < cfg.To.Add(-cfg.MaxSession).UnixNano() {
			require.NotZero(t, s.stop, "a session of at most %v has ended", cfg.MaxSession)
			durs = append(durs, time.Duration(s.stop-s.start))
		}
	}
	require.Greater(t, len(durs), 5000)
	slices.Sort(durs)
	require.InEpsilon(t, cfg.MedianSession.Seconds(), durs[len(durs)/2].Seconds(), 0.1, "median duration")
	require.Greater(t, durs[len(durs)*99/100], 3*time.Hour, "a tail of hours")
	require.LessOrEqual(t, durs[len(durs)-1], cfg.MaxSession+2*cfg.FormatJitter)

	// Every kind of event occurs.
	types := map[event.Type]int{}
	for _, e := range goodEvents(t, msgs) {
		types[e.typ]++
	}
	require.Len(t, types, 5)
	require.Greater(t, types[event.RecordFileComplete], types[event.RecordStart], "a file every 10 minutes")
	require.InEpsilon(t, cfg.FailShare, float64(types[event.RecordFailed])/float64(types[event.RecordStart]), 0.3)
}

func TestPopulationIsZipf(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return t0 }
	g, err := New(cfg)
	require.NoError(t, err)
	sizes := make([]int, len(g.pop.projects))
	total := 0
	for i, p := range g.pop.projects {
		sizes[i] = p.channels
		total += p.channels
		require.Positive(t, p.channels)
	}
	require.Equal(t, cfg.Channels, total)
	require.Len(t, g.pop.channels, cfg.Channels)
	slices.Sort(sizes)
	largest, median := sizes[len(sizes)-1], sizes[len(sizes)/2]
	require.Greater(t, largest, 20*median, "largest %d, median %d", largest, median)

	domains := map[int32]map[string]bool{}
	for _, c := range g.pop.channels {
		if domains[c.project] == nil {
			domains[c.project] = map[string]bool{}
		}
		domains[c.project][string(c.domain)] = true
		require.Contains(t, []uint8{1, 2}, c.nFormats)
		if c.nFormats == 2 {
			require.NotEqual(t, c.formats[0], c.formats[1])
		}
	}
	for p, ds := range domains {
		require.LessOrEqual(t, len(ds), 3, "project %d", p)
	}
	// Small edge: as many channels as projects.
	require.Equal(t, []int{1, 1, 1}, zipfSizes(3, 3, 1.1))
	require.Equal(t, 10, sum(zipfSizes(7, 10, 2)))
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestDailyRhythm(t *testing.T) {
	cfg := testConfig(72 * time.Hour)
	msgs, _ := runCollect(t, cfg)
	var byHour [24]int // session starts by local hour (UTC+8)
	for _, e := range goodEvents(t, msgs) {
		if e.typ == event.RecordStart && e.time > cfg.From.Add(10*time.Second).UnixNano() {
			byHour[time.Unix(0, e.time).UTC().Add(cfg.UTCOffset).Hour()]++
		}
	}
	night := byHour[4] + byHour[5]
	peak := byHour[20] + byHour[21]
	require.Greater(t, peak, 4*night, "starts by local hour: %v", byHour)
	require.Contains(t, []int{20, 21}, slices.Index(byHour[:], slices.Max(byHour[:])), "peak hour: %v", byHour)
}
