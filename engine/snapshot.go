package engine

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/window"
)

// The snapshot is a self-describing binary encoding of the whole engine state, so that a
// checkpoint restores exactly what was there, ids and bitmaps included:
//
//	magic "RUSNAP" | version uvarint | body | CRC-32C of everything before it (4 bytes, LE)
//
// Integers are varints; strings and bitmaps are length-prefixed. The time rules (Config) are not
// part of it: they come from the flags of the process that restores.
const (
	snapshotMagic = "RUSNAP"
	// 2: recovery state after finalTo. 3: no per-minute state (cells and boundary bitmaps):
	// Restore derives it from the recordings' histories (rebuild.go).
	snapshotVersion = 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendSnapshot appends the encoded state to dst. Call it after Flush, between events.
func (e *Engine) AppendSnapshot(dst []byte) []byte {
	e.drain()
	e.sweep(e.released) // a snapshot holds no event before the retained minutes (rebuild checks)
	w := snapWriter{buf: dst}
	start := len(dst)
	w.buf = append(w.buf, snapshotMagic...)
	w.uint(snapshotVersion)
	w.bool(e.hasTime)
	w.int(e.maxTime)
	w.int(e.frontier)
	w.int(e.released)
	w.int(e.finalTo)
	w.bool(e.recovering)
	w.int(e.withheldTo)
	w.uint(e.stats.Applied)
	w.uint(e.stats.Duplicates)
	w.uint(e.stats.Late)

	w.uint(uint64(len(e.recs)))
	for i := range e.recs {
		r := &e.recs[i]
		w.bool(r.key != keyNone)
		if r.key == keyNone {
			continue
		}
		w.bytes(e.dict.keyAt(r.key))
		w.uint(uint64(r.all))
		w.uint(uint64(r.dom))
		_, since := e.folded(r)
		w.int(since)
		hist := e.history(r)
		w.uint(uint64(len(hist)))
		for _, h := range hist {
			w.int(h.time)
			w.int(h.off())
			w.uint(uint64(h.typ()))
		}
	}
	w.ids(e.freeIDs)

	w.uint(uint64(len(e.series)))
	for _, s := range e.series {
		w.bool(s != nil)
		if s != nil {
			w.series(s)
		}
	}
	w.ids(e.freeSer)
	w.ids(e.dirty)

	sum := crc32.Checksum(w.buf[start:], castagnoli)
	return binary.LittleEndian.AppendUint32(w.buf, sum)
}

func (w *snapWriter) series(s *series) {
	w.str(s.key)
	w.str(s.project)
	w.str(s.domain)
	w.bool(s.all)
	w.int(int64(s.refs))
	w.int(s.dirtyFrom)
	w.uint(uint64(s.hours.len()))
	for _, he := range s.hours.list { // sorted: equal states, equal bytes
		hour, h := he.hour, he.state
		w.int(hour)
		for _, c := range h.w.Counts() {
			w.uint(uint64(c))
		}
		w.uint(uint64(h.sent.Count))
		w.uint(uint64(h.sent.Minute))
		w.bool(h.sentOK)
	}
	w.uint(uint64(len(s.pending)))
	for _, hour := range s.pending {
		w.int(hour)
	}
}

type snapWriter struct{ buf []byte }

func (w *snapWriter) uint(v uint64)  { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *snapWriter) int(v int64)    { w.buf = binary.AppendVarint(w.buf, v) }
func (w *snapWriter) str(s string)   { w.uint(uint64(len(s))); w.buf = append(w.buf, s...) }
func (w *snapWriter) bytes(b []byte) { w.uint(uint64(len(b))); w.buf = append(w.buf, b...) }
func (w *snapWriter) bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}
func (w *snapWriter) ids(ids []uint32) {
	w.uint(uint64(len(ids)))
	for _, id := range ids {
		w.uint(uint64(id))
	}
}

// Restore rebuilds an engine from a snapshot written by AppendSnapshot.
func Restore(cfg Config, now func() time.Time, data []byte) (*Engine, error) {
	e, err := New(cfg, now)
	if err != nil {
		return nil, err
	}
	if len(data) < len(snapshotMagic)+4 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not an engine snapshot", ErrBadSnapshot)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or corrupted)", ErrBadSnapshot)
	}
	r := snapReader{buf: body[len(snapshotMagic):]}
	v := r.uint()
	if v < 1 || v > snapshotVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads 1 to %d", ErrBadSnapshot, v, snapshotVersion)
	}
	e.hasTime = r.bool()
	e.maxTime = r.int()
	e.frontier = r.int()
	e.released = r.int()
	e.swept = e.released
	e.finalTo = r.int()
	if v >= 2 {
		e.recovering = r.bool()
		e.withheldTo = r.int()
	}
	e.stats.Applied = r.uint()
	e.stats.Duplicates = r.uint()
	e.stats.Late = r.uint()

	e.recs = make([]recording, r.count())
	for id := range e.recs {
		rec := &e.recs[id]
		*rec = recording{cur: noSession, key: keyNone}
		if !r.bool() {
			continue
		}
		key := r.bytes(r.count())
		if key == nil {
			break
		}
		rec.key = e.dict.insert(key, uint32(id))
		rec.all, rec.dom = r.id(), r.id()
		rec.cur = r.int() // the folded state, and the current one when there is no history
		if n := r.count(); n > 0 {
			hist := e.allocHistory(uint32(id))
			for range n {
				t, off, typ := r.int(), r.int(), event.Type(r.uint())
				if off < minOffset || off > maxOffset || !(typ.Opens() || typ.Closes()) {
					r.fail("history event of recording %d: offset %d, type %d", id, off, typ)
					break
				}
				hist = append(hist, newHistEvent(t, off, typ))
			}
			e.hist.put(rec.hist, hist)
			if len(hist) > 0 {
				rec.last = hist[len(hist)-1].time
			}
			if open, since := replay(rec.cur != noSession, rec.cur, hist); open {
				rec.cur = since
			} else {
				rec.cur = noSession
			}
		}
	}
	e.freeIDs = r.ids()

	e.series = make([]*series, r.count())
	for sid := range e.series {
		if r.bool() {
			s := r.series(v)
			s.pool = &e.hours
			e.series[sid] = s
			e.seriesIDs[s.key] = uint32(sid)
		}
	}
	e.freeSer = r.ids()
	e.dirty = r.ids()
	if r.err != nil {
		return nil, r.err
	}
	if len(r.buf) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadSnapshot, len(r.buf))
	}
	for i := range e.recs {
		rec := &e.recs[i]
		if rec.key != keyNone && (int(rec.all) >= len(e.series) || e.series[rec.all] == nil ||
			int(rec.dom) >= len(e.series) || e.series[rec.dom] == nil) {
			return nil, fmt.Errorf("%w: recording %d refers to a missing series", ErrBadSnapshot, i)
		}
	}
	if err := e.rebuild(v < 3); err != nil {
		return nil, err
	}
	return e, nil
}

func (r *snapReader) series(version uint64) *series {
	s := newSeries(r.str(), r.str(), r.str(), r.bool(), 0)
	s.refs = int(r.int())
	if version < 3 {
		// The per-minute state of versions 1 and 2 (first minute, spanning base, then per cell:
		// minute, difference, span and boundary bitmap): rebuild derives it again.
		r.int()
		r.int()
		s.dirtyFrom = r.int()
		for n := r.count(); n > 0 && r.err == nil; n-- {
			r.int()
			r.int()
			r.int()
			r.bytes(r.count())
		}
	} else {
		s.dirtyFrom = r.int()
	}
	for n := r.count(); n > 0 && r.err == nil; n-- {
		hour := r.int()
		var counts [window.MinutesPerHour]uint32
		for m := range counts {
			counts[m] = uint32(r.uint())
		}
		h := &hourState{}
		h.w.Load(counts)
		h.sent = window.Peak{Count: uint32(r.uint()), Minute: uint8(r.uint())}
		h.sentOK = r.bool()
		s.hours.set(hour, h)
	}
	for n := r.count(); n > 0 && r.err == nil; n-- {
		hour := r.int()
		if h := s.hours.get(hour); h != nil {
			h.pending = true
		}
		s.pending = append(s.pending, hour)
	}
	return s
}

// snapReader decodes with a sticky error: after the first failure every read returns zero.
type snapReader struct {
	buf []byte
	err error
}

func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrBadSnapshot, fmt.Sprintf(format, args...))
	}
	r.buf = nil
}

func (r *snapReader) uint() uint64 {
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("truncated integer")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *snapReader) int() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail("truncated integer")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// count reads a length and checks that it is plausible for the bytes left, so that a corrupt
// length cannot make Restore allocate without bound.
func (r *snapReader) count() int {
	v := r.uint()
	if v > uint64(len(r.buf)) {
		r.fail("length %d exceeds the %d bytes left", v, len(r.buf))
		return 0
	}
	return int(v)
}

func (r *snapReader) id() uint32 {
	v := r.uint()
	if v > math.MaxUint32 {
		r.fail("id %d out of range", v)
	}
	return uint32(v)
}

func (r *snapReader) bytes(n int) []byte {
	if n > len(r.buf) {
		r.fail("truncated")
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

func (r *snapReader) str() string { return string(r.bytes(r.count())) }

func (r *snapReader) bool() bool {
	b := r.bytes(1)
	return b != nil && b[0] == 1
}

func (r *snapReader) ids() []uint32 {
	n := r.count()
	ids := make([]uint32, 0, n)
	for range n {
		ids = append(ids, r.id())
	}
	return ids
}
