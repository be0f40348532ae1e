package engine

import (
	"encoding/binary"

	"github.com/recordusage/recordusage/event"
	"github.com/recordusage/recordusage/results"
)

// Batching.
//
// An event touches state spread over memory — the dictionary's slot, the key in the arena, the
// recording, its history block, its two series and their newest cells — and each of those is a
// likely cache miss that depends on the one before. One event at a time, the processor waits for
// them one after the other. So Apply checks the time rules and queues the start or stop, and
// the queue is processed batchSize events at a time: first a few passes over the whole batch
// that only load what each event will touch, one level of indirection per pass (the loads of a
// pass are independent, so the processor has many of them in flight at once), then the events
// in arrival order, exactly as one at a time, with their state in cache.
//
// The queue is invisible from outside: everything that reads or changes the state (Flush,
// Stats, Late, Held, AppendSnapshot, BeginRecovery, Reconcile) processes it first, and nothing
// that the processing reads (frontier, released minutes, recovery) changes between Apply and
// then. The time rules, which decide Apply's error, depend only on the largest event time,
// which Apply keeps up to date itself.

// batchSize is the number of queued events processed together: enough to keep the processor's
// outstanding misses busy, few enough that what the passes load stays in the caches.
const batchSize = 64

// queued is an applied start or stop not yet processed.
type queued struct {
	time, off int64
	typ       event.Type
	hash      uint32 // of the key
	keyOff    uint32 // the recording key in batch.keys
	keyLen    uint32
	id        uint32 // the recording the prefetch passes guessed; keyNone when none
}

type batch struct {
	evs  []queued
	keys []byte
}

func (b *batch) key(q *queued) []byte { return b.keys[q.keyOff : q.keyOff+q.keyLen] }

// enqueue queues a start or stop, and processes the queue when it is full. The recording key
// (project, lower-case domain, app, stream, format; results.LowerDomain says why the domain is
// lower case) is copied, since the event's fields alias the message.
func (e *Engine) enqueue(ev *event.Event, off int64) {
	b := &e.batch
	start := len(b.keys)
	b.keys = appendField(b.keys, ev.ProjectID)
	b.keys = binary.AppendUvarint(b.keys, uint64(len(ev.PublishDomain))) // lowering keeps the length
	b.keys = results.AppendLowerDomain(b.keys, ev.PublishDomain)
	b.keys = appendField(b.keys, ev.App)
	b.keys = appendField(b.keys, ev.Stream)
	b.keys = appendField(b.keys, ev.RecordFormat)
	b.evs = append(b.evs, queued{time: ev.Time, off: off, typ: ev.Type,
		keyOff: uint32(start), keyLen: uint32(len(b.keys) - start)})
	if len(b.evs) >= batchSize {
		e.drain()
	}
}

// drain processes the queued events.
func (e *Engine) drain() {
	b := &e.batch
	if len(b.evs) == 0 {
		return
	}
	e.prefetch(b.evs)
	for i := range b.evs {
		e.applyQueued(&b.evs[i])
	}
	b.evs, b.keys = b.evs[:0], b.keys[:0]
}

// prefetch loads, pass by pass, what the queued events will touch. It changes nothing but
// e.sink: what it finds is a guess that applyQueued does not rely on.
func (e *Engine) prefetch(q []queued) { e.prefetchWith(q, e.dict.hash) }

// prefetchWith is prefetch with the hash function given, so that tests can force a guess.
func (e *Engine) prefetchWith(q []queued, hash func([]byte) uint32) {
	d := &e.dict
	var sink uint64
	mask := uint32(len(d.slots) - 1)
	for i := range q {
		h := hash(e.batch.key(&q[i]))
		q[i].hash = h
		sink += d.slots[h&mask]
	}
	for i := range q {
		q[i].id = d.candidate(q[i].hash)
		if id := q[i].id; id != keyNone {
			sink += uint64(e.recs[id].key) // the arena offset, and the rest of the recording
		}
	}
	for i := range q {
		id := q[i].id
		if id == keyNone {
			continue
		}
		// The candidate's key may be another one (the hash bits match, the key does not), so
		// the end of this key is only a guess of where the candidate's ends.
		off := int(e.recs[id].key)
		end := min(off+entryHeader+int(q[i].keyLen), len(d.arena)) - 1
		sink += uint64(d.arena[off]) + uint64(d.arena[end])
		r := &e.recs[id]
		if r.hist != 0 {
			// Every cache line the block spans (three, or four as it falls): an event after the
			// others is written to any of them, and one among them reads them all. (Loading only
			// the header and the line of the next event was measured slower.)
			b := &e.hist.blocks[r.hist]
			sink += uint64(b.n) + uint64(b.ev[3].ot) + uint64(b.ev[7].ot) + uint64(b.ev[histInline-1].ot)
		}
		for _, s := range [2]*series{e.series[r.all], e.series[r.dom]} {
			sink += uint64(len(s.cells))
			if s.live {
				sink++
			}
		}
	}
	for i := range q {
		id := q[i].id
		if id == keyNone {
			continue
		}
		r := &e.recs[id]
		for _, sid := range [2]uint32{r.all, r.dom} {
			if s := e.series[sid]; len(s.cells) > 0 {
				sink += uint64(s.cells[len(s.cells)-1].bounds)
			}
		}
	}
	e.sink += sink
}

// splitField returns the first length-prefixed field of key (see appendField) and the rest.
func splitField(key []byte) (field, rest []byte) {
	n, w := binary.Uvarint(key)
	return key[w : w+int(n)], key[w+int(n):]
}
