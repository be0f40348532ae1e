package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/recordusage/recordusage/event"
)

// Stats counts what the engine did and how big its state is; read it with Engine.Stats.
type Stats struct {
	Applied    uint64 // accepted events, file-complete events included
	Duplicates uint64 // exact duplicates ignored
	Late       uint64 // events applied at or behind the published frontier: they corrected minutes
	Recordings int    // recordings in the dictionary
	Open       int    // recordings whose folded state is an open session (long-running)
	Series     int    // projects and (project, domain) pairs with state
	History    int    // events kept within the correction horizon
}

// Engine is the state of one input partition. It is not safe for concurrent use; see the
// package documentation for who may read what.
type Engine struct {
	cfg Config
	now func() time.Time

	hasTime  bool
	maxTime  int64 // largest event time seen, Unix ns
	frontier int64 // last published minute: counts exist for every minute up to it
	released int64 // minutes before this one are released; no accepted event can touch them
	swept    int64 // history events before this minute are folded (see sweep)
	finalTo  int64 // hours before this one are final and dropped

	recovering bool  // hours up to withheldTo are withheld until Reconcile (see recovery.go)
	withheldTo int64 // last withheld hour

	dict    dictionary
	recs    []recording // by id
	freeIDs []uint32
	hist    histories // recent events of recordings
	// withHist holds the recordings that have a history block, for the hourly pass (sweep): a
	// partition may hold a million long recordings whose starts are folded, and the pass visits
	// only those with recent events, in order of id.
	withHist *roaring.Bitmap
	dropIDs  []uint32 // scratch of sweep

	seriesIDs map[string]uint32
	series    []*series // by id; nil when free
	freeSer   []uint32
	dirty     []uint32 // series with dirtyFrom <= frontier
	live      []uint32 // series that are not quiet (and maybe some that became quiet since the last hourly pruning)

	minutes minuteRing // per retained minute: boundary bitmap, series with a cell
	hours   hourPool   // states of final hours, for new hours

	stats Stats

	// Scratch space reused by every Apply.
	batch     batch  // events applied but not yet processed (batch.go)
	sink      uint64 // what the batch's prefetching loads read, so that they are not dropped
	seriesKey []byte
	old, new  contribution
	changes   []cellDelta // e.new minus e.old, per minute
}

// New returns an empty engine. now is the wall clock, injected so that tests control it.
func New(cfg Config, now func() time.Time) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Engine{
		cfg: cfg, now: now,
		dict:      newDictionary(),
		seriesIDs: make(map[string]uint32),
		withHist:  roaring.New(),
	}, nil
}

// Watermark returns the event watermark (largest event time minus lateness) and whether the
// partition has seen an event at all.
func (e *Engine) Watermark() (time.Time, bool) {
	if !e.hasTime {
		return time.Time{}, false
	}
	return time.Unix(0, e.watermark()).UTC(), true
}

// Frontier returns the last minute whose count has been published.
func (e *Engine) Frontier() (time.Time, bool) {
	if !e.hasTime {
		return time.Time{}, false
	}
	return time.Unix(e.frontier*60, 0).UTC(), true
}

// Stats returns counters and sizes of the state. It walks every recording: call it for metrics,
// not per event.
func (e *Engine) Stats() Stats {
	e.drain()
	e.sweep(e.released) // fold what the hourly sweep would, so that Open counts every long session
	s := e.stats
	s.Series = len(e.seriesIDs)
	for i := range e.recs {
		r := &e.recs[i]
		if r.key == keyNone {
			continue
		}
		s.Recordings++
		if open, _ := e.folded(r); open {
			s.Open++
		}
		s.History += e.hist.events(r.hist)
	}
	return s
}

// Late returns the number of events applied at or behind the published frontier so far: each
// corrected published minutes. It is cheap, unlike Stats.
func (e *Engine) Late() uint64 {
	e.drain()
	return e.stats.Late
}

func (e *Engine) watermark() int64 { return e.maxTime - int64(e.cfg.Lateness) }

// Apply applies one decoded event that arrived at offset off. It returns an *event.Error with
// ReasonFuture, ReasonTooOld or ReasonTooLate when the event is rejected by the time rules of
// CONTRACT.md §4; the caller dead-letters it. An accepted start or stop may be queued and
// processed with the next ones (batch.go); that is invisible to every other method. Apply does
// not publish: call Flush. off must be within ±2^60 (a Kafka offset is); Apply panics otherwise.
func (e *Engine) Apply(ev *event.Event, off int64) error {
	if off < minOffset || off > maxOffset {
		panic(fmt.Sprintf("engine: offset %d out of range", off)) // the caller's bug, not bad input
	}
	t := ev.Time
	if err := e.check(t); err != nil {
		return err
	}
	if !e.hasTime {
		e.start(t)
	}
	e.maxTime = max(e.maxTime, t)
	e.stats.Applied++
	if !ev.Type.Opens() && !ev.Type.Closes() {
		return nil // RECORD_FILE_COMPLETE: valid, and changes nothing
	}
	e.enqueue(ev, off)
	return nil
}

// applyQueued applies one queued start or stop to the recording's history and its series.
func (e *Engine) applyQueued(q *queued) {
	id := e.intern(e.batch.key(q), q.hash)
	if r := &e.recs[id]; (r.hist == 0 || q.time > r.last) && e.appendNewest(id, q) {
		return
	}
	e.insertQueued(id, q)
}

// appendNewest applies an event after every other event of its recording, the common case: no
// duplicate can be among them (a duplicate has the same time), the state before the event is
// the recording's cur, and the event goes at the end of its history. It reads no event of the
// history and replays none. It returns false, having done nothing, when the history block is
// full or spilled: insertQueued folds or spills it.
func (e *Engine) appendNewest(id uint32, q *queued) bool {
	r := &e.recs[id]
	if r.hist != 0 {
		if b := &e.hist.blocks[r.hist]; b.sp != 0 || b.n == histInline {
			return false
		}
	} else {
		e.allocHistory(id)
	}
	b := &e.hist.blocks[r.hist]
	h := newHistEvent(q.time, q.off, q.typ)
	b.ev[b.n] = h
	b.n++
	r.last = q.time
	open, since := r.cur != noSession, r.cur
	switch {
	case h.typ().Opens() && !open:
		r.cur = h.time
	case h.typ().Closes():
		r.cur = noSession
	}
	if minuteOf(q.time) <= e.frontier {
		e.stats.Late++
	}
	e.applyNewest(id, r.all, r.dom, open, since, h)
	return true
}

// insertQueued applies an event that goes among the others of its recording (or after them, when
// its history block is full or spilled): it is placed in the sorted history, and the change that
// it makes to the recording's sessions is the difference of two walks from it (applyChange).
func (e *Engine) insertQueued(id uint32, q *queued) {
	r := &e.recs[id]
	h := newHistEvent(q.time, q.off, q.typ)
	hist := e.history(r)
	if len(hist) == histInline && minuteOf(hist[0].time) < e.released {
		// A full block with events that the hourly sweep has not folded yet: fold them now
		// rather than spill (see sweep).
		hist = e.hist.blocks[r.hist].fold(hist, e.released)
		e.hist.put(r.hist, hist)
	}
	p := insertPos(hist, h)
	if p < 0 {
		e.stats.Duplicates++
		return
	}
	open, since := e.folded(r)
	open, since = replay(open, since, hist[:p])
	newest := p == len(hist)
	if !newest {
		e.old.walk(open, since, hist[p:])
	}
	if r.hist == 0 {
		hist = e.allocHistory(id)
	}
	hist = append(hist, histEvent{})
	copy(hist[p+1:], hist[p:])
	hist[p] = h
	e.hist.put(r.hist, hist)
	r.last = hist[len(hist)-1].time
	if cur, curSince := replay(open, since, hist[p:]); cur {
		r.cur = curSince
	} else {
		r.cur = noSession
	}

	if m := minuteOf(q.time); m <= e.frontier {
		e.stats.Late++
	}
	if newest {
		e.applyNewest(id, r.all, r.dom, open, since, h)
		return
	}
	e.new.walk(open, since, hist[p:])
	e.applyChange(id, r.all, r.dom)
}

// check applies the time rules of CONTRACT.md §4 to an event time.
func (e *Engine) check(t int64) error {
	now := e.now().UnixNano()
	switch {
	case t > now+int64(e.cfg.MaxClockSkew):
		return &event.Error{Reason: event.ReasonFuture, Field: "event_time",
			Msg: fmt.Sprintf("event_time %s is more than %v ahead of the clock (%s); fix the producer's clock",
				fmtTime(t), e.cfg.MaxClockSkew, fmtTime(now))}
	case t < now-int64(e.cfg.Retention):
		return &event.Error{Reason: event.ReasonTooOld, Field: "event_time",
			Msg: fmt.Sprintf("event_time %s is older than the retention of %v", fmtTime(t), e.cfg.Retention)}
	case e.hasTime && t < e.watermark()-int64(e.cfg.CorrectionHorizon):
		return &event.Error{Reason: event.ReasonTooLate, Field: "event_time",
			Msg: fmt.Sprintf("event_time %s is more than the correction horizon %v behind the watermark %s; "+
				"raise --correction-horizon if such delays are expected",
				fmtTime(t), e.cfg.CorrectionHorizon, fmtTime(e.watermark()))}
	}
	return nil
}

// start sets the time state at the first event of the partition.
func (e *Engine) start(t int64) {
	e.hasTime = true
	e.maxTime = t
	e.frontier = minuteOf(e.watermark())
	e.finalTo, e.released = e.horizonMarks()
	e.swept = e.released
}

// horizonMarks returns, for the current watermark, the first hour that is not final yet (the
// watermark is not past its end plus the correction horizon) and the first minute that is not
// released (no accepted event can be before it).
func (e *Engine) horizonMarks() (finalTo, released int64) {
	horizon := e.watermark() - int64(e.cfg.CorrectionHorizon)
	return floorDiv(horizon-1, nsPerHour), minuteOf(horizon)
}

// folded returns the state that the folded events of a recording left: its block's, or, when
// it has none, the state after all its events.
func (e *Engine) folded(r *recording) (open bool, since int64) {
	since = r.cur
	if r.hist != 0 {
		since = e.hist.blocks[r.hist].since
	}
	return since != noSession, since
}

// history returns the recent events of a recording (see histories.get).
func (e *Engine) history(r *recording) []histEvent {
	if r.hist == 0 {
		return nil
	}
	return e.hist.get(r.hist)
}

// intern returns the id of the recording with the key (built by enqueue; h is its hash),
// creating it if new.
func (e *Engine) intern(key []byte, h uint32) uint32 {
	if id, ok := e.dict.lookupHash(key, h, e.recs); ok {
		return id
	}
	project, rest := splitField(key)
	domain, _ := splitField(rest)
	rec := recording{cur: noSession,
		all: e.seriesFor(project, domain, true),
		dom: e.seriesFor(project, domain, false)}
	var id uint32
	if n := len(e.freeIDs); n > 0 {
		id = e.freeIDs[n-1]
		e.freeIDs = e.freeIDs[:n-1]
		e.recs[id] = rec
	} else {
		if len(e.recs) == math.MaxUint32 {
			panic("engine: recording ids exhausted") // 4 billion live recordings in one partition
		}
		id = uint32(len(e.recs))
		e.recs = append(e.recs, rec)
	}
	e.recs[id].key = e.dict.insertHash(key, h, id)
	return id
}

// appendField appends a length-prefixed field, so that keys built from several fields are
// unambiguous whatever bytes the fields hold.
func appendField(dst, f []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(f)))
	return append(dst, f...)
}

// seriesFor returns the id of the series of a project (all) or of a (project, domain) pair,
// creating it, and counts one more recording in it.
func (e *Engine) seriesFor(project, domain []byte, all bool) uint32 {
	k := appendField(e.seriesKey[:0], project)
	if all {
		k = append(k, 0)
	} else {
		k = appendField(append(k, 1), domain)
	}
	e.seriesKey = k
	sid, ok := e.seriesIDs[string(k)]
	if !ok {
		d := string(domain)
		if all {
			d = ""
		}
		s := newSeries(string(k), string(project), d, all, e.released)
		s.pool = &e.hours
		if n := len(e.freeSer); n > 0 {
			sid = e.freeSer[n-1]
			e.freeSer = e.freeSer[:n-1]
			e.series[sid] = s
		} else {
			sid = uint32(len(e.series))
			e.series = append(e.series, s)
		}
		e.seriesIDs[s.key] = sid
	}
	e.series[sid].refs++
	return sid
}

// dropRecording frees the id of a recording whose sessions all ended before the released
// minutes: no retained bitmap holds the id, so it can be given to a new recording.
func (e *Engine) dropRecording(id uint32) {
	r := &e.recs[id]
	e.dict.remove(r.key)
	for _, sid := range [2]uint32{r.all, r.dom} {
		s := e.series[sid]
		s.refs--
		if s.refs == 0 && !s.live && !e.recovering {
			e.freeSeries(sid)
		}
	}
	if r.hist != 0 {
		e.releaseHistory(id)
	}
	*r = recording{cur: noSession, key: keyNone}
	e.freeIDs = append(e.freeIDs, id)
}

// allocHistory gives recording id, which has none, an empty history block and returns its events
// (none). The block's folded state is the recording's current one: no event is in the block.
func (e *Engine) allocHistory(id uint32) []histEvent {
	r := &e.recs[id]
	r.hist = e.hist.alloc(r.cur)
	e.withHist.Add(id)
	return e.hist.get(r.hist)
}

// releaseHistory frees the history block of recording id.
func (e *Engine) releaseHistory(id uint32) {
	r := &e.recs[id]
	e.hist.release(r.hist)
	r.hist = 0
	e.withHist.Remove(id)
}

// compactArena rewrites the key arena without the keys of dropped recordings, once they are
// most of it.
func (e *Engine) compactArena() {
	e.dict.compact(func(id, off uint32) { e.recs[id].key = off })
}

func fmtTime(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339Nano) }
