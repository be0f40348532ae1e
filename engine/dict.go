package engine

import (
	"encoding/binary"
	"hash/maphash"
)

// dictionary maps recording keys to dense uint32 ids. It is an open-addressing hash table
// (linear probing, backward-shift deletion, load at most 1/2) over an arena that holds each
// entry as [id uint32][key length uint32][key bytes]. A slot holds 32 bits of the key's hash and
// the id itself; the arena offset of each id's entry is kept by the engine in the recording
// (recording.key), which it loads anyway, and lookups take the recordings. A lookup compares the
// hash bits first and touches the key only on a match; it returns the id without reading the
// arena entry's header, so the caller's next loads (the recording, by id) do not wait for the
// arena: the processor fetches them while the key comparison, whose branch it predicts,
// completes. A recording costs a few bytes of table and no pointer: the garbage collector never
// scans it, and a million open recordings fit in tens of megabytes. Go's map[string]uint32 would
// cost a 16-byte string header and a separately allocated string per recording, plus its own
// slot overhead.
type dictionary struct {
	seed  maphash.Seed
	slots []uint64 // hash<<32 | id+1; 0 is empty
	used  int
	arena []byte
	dead  int // arena bytes of deleted entries
}

const keyNone = ^uint32(0)

// entryHeader is the size of an arena entry's id and key length.
const entryHeader = 8

func newDictionary() dictionary {
	return dictionary{seed: maphash.MakeSeed(), slots: make([]uint64, 1024)}
}

func (d *dictionary) hash(key []byte) uint32 { return uint32(maphash.Bytes(d.seed, key)) }

// keyAt returns the key of the arena entry at off.
func (d *dictionary) keyAt(off uint32) []byte {
	n := binary.LittleEndian.Uint32(d.arena[off+4:])
	start := int(off) + entryHeader
	return d.arena[start : start+int(n)]
}

// lookup returns the id of key; recs holds the arena offset of each id's entry.
func (d *dictionary) lookup(key []byte, recs []recording) (uint32, bool) {
	return d.lookupHash(key, d.hash(key), recs)
}

// lookupHash returns the id of key, whose hash is h; recs holds the arena offset of each id's
// entry.
func (d *dictionary) lookupHash(key []byte, h uint32, recs []recording) (uint32, bool) {
	mask := uint64(len(d.slots) - 1)
	for i := uint64(h) & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == h {
			if id := uint32(s) - 1; string(d.keyAt(recs[id].key)) == string(key) {
				return id, true
			}
		}
	}
}

// candidate returns the id of the first entry whose hash is h, without comparing keys (a
// guess, for prefetching), or keyNone.
func (d *dictionary) candidate(h uint32) uint32 {
	mask := uint64(len(d.slots) - 1)
	for i := uint64(h) & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return keyNone
		}
		if uint32(s>>32) == h {
			return uint32(s) - 1
		}
	}
}

// insert adds key with id; the key must not be present, and id must have no entry. It returns
// the arena offset of the entry.
func (d *dictionary) insert(key []byte, id uint32) uint32 { return d.insertHash(key, d.hash(key), id) }

// insertHash is insert for a key whose hash is h.
func (d *dictionary) insertHash(key []byte, h uint32, id uint32) uint32 {
	off := d.appendEntry(key, id)
	if (d.used+1)*2 > len(d.slots) {
		d.resize(2 * len(d.slots))
	}
	d.place(uint64(h)<<32 | (uint64(id) + 1))
	d.used++
	return off
}

// appendEntry appends an entry to the arena and returns its offset.
func (d *dictionary) appendEntry(key []byte, id uint32) uint32 {
	off := len(d.arena)
	if off > int(keyNone-1)-len(key)-entryHeader {
		panic("engine: key arena over 4 GiB") // far beyond any partition's live recordings
	}
	d.arena = binary.LittleEndian.AppendUint32(d.arena, id)
	d.arena = binary.LittleEndian.AppendUint32(d.arena, uint32(len(key)))
	d.arena = append(d.arena, key...)
	return uint32(off)
}

func (d *dictionary) place(s uint64) {
	mask := uint64(len(d.slots) - 1)
	i := (s >> 32) & mask
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = s
}

func (d *dictionary) resize(n int) {
	old := d.slots
	d.slots = make([]uint64, n)
	for _, s := range old {
		if s != 0 {
			d.place(s)
		}
	}
}

// remove deletes the entry at arena offset off.
func (d *dictionary) remove(off uint32) {
	key := d.keyAt(off)
	id := binary.LittleEndian.Uint32(d.arena[off:])
	h := d.hash(key)
	mask := uint64(len(d.slots) - 1)
	want := uint64(h)<<32 | (uint64(id) + 1)
	i := uint64(h) & mask
	for d.slots[i] != want {
		if d.slots[i] == 0 {
			panic("engine: removing a recording that is not in the dictionary")
		}
		i = (i + 1) & mask
	}
	d.dead += entryHeader + len(key)
	d.used--
	binary.LittleEndian.PutUint32(d.arena[off:], keyNone) // a dead entry, skipped by compact
	// Backward-shift deletion: move later entries of the probe run into the hole, so that
	// lookups never need tombstones.
	for {
		d.slots[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			s := d.slots[j]
			if s == 0 {
				return
			}
			home := (s >> 32) & mask
			// Move s into the hole at i unless its home lies cyclically in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j)) {
				d.slots[i] = s
				i = j
				break
			}
		}
	}
}

// compact rewrites the arena without deleted entries, once they are most of it, and calls
// moved(id, off) for every entry with its new offset, which the caller must keep.
func (d *dictionary) compact(moved func(id, off uint32)) {
	if d.dead >= 1<<20 && d.dead*2 >= len(d.arena) {
		d.rewrite(moved)
	}
}

// rewrite rebuilds the arena from the live entries. The table holds ids, not offsets, so it
// stays as it is.
func (d *dictionary) rewrite(moved func(id, off uint32)) {
	old := d.arena
	d.arena = make([]byte, 0, len(old)-d.dead)
	d.dead = 0
	for off := 0; off < len(old); {
		id := binary.LittleEndian.Uint32(old[off:])
		n := int(binary.LittleEndian.Uint32(old[off+4:]))
		end := off + entryHeader + n
		if id != keyNone {
			moved(id, d.appendEntry(old[off+entryHeader:end], id))
		}
		off = end
	}
}
