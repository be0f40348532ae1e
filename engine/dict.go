package engine

import (
	"encoding/binary"
	"hash/maphash"
)

// dictionary maps recording keys to dense uint32 ids. It is an open-addressing hash table
// (linear probing, backward-shift deletion, load at most 1/2) over an arena that holds each
// entry as [id uint32][key length uvarint][key bytes]. A slot holds the key's hash and the
// entry's arena offset, so a lookup touches the slot and the arena entry and nothing else. A
// recording costs a few bytes of table and no pointer: the garbage collector never scans it, and
// a million open recordings fit in tens of megabytes. Go's map[string]uint32 would cost a 16-byte
// string header and a separately allocated string per recording, plus its own slot overhead.
type dictionary struct {
	seed  maphash.Seed
	slots []uint64 // hash<<32 | arena offset+1; 0 is empty
	used  int
	arena []byte
	dead  int // arena bytes of deleted entries
}

const keyNone = ^uint32(0)

func newDictionary() dictionary {
	return dictionary{seed: maphash.MakeSeed(), slots: make([]uint64, 1024)}
}

func (d *dictionary) hash(key []byte) uint32 { return uint32(maphash.Bytes(d.seed, key)) }

// keyAt returns the key of the arena entry at off.
func (d *dictionary) keyAt(off uint32) []byte {
	n, w := binary.Uvarint(d.arena[off+4:])
	start := int(off) + 4 + w
	return d.arena[start : start+int(n)]
}

// lookup returns the id of key.
func (d *dictionary) lookup(key []byte) (uint32, bool) {
	h := d.hash(key)
	mask := uint64(len(d.slots) - 1)
	for i := uint64(h) & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == h {
			if off := uint32(s) - 1; string(d.keyAt(off)) == string(key) {
				return binary.LittleEndian.Uint32(d.arena[off:]), true
			}
		}
	}
}

// insert adds key with id; the key must not be present. It returns the arena offset of the entry.
func (d *dictionary) insert(key []byte, id uint32) uint32 {
	off := len(d.arena)
	if off > int(keyNone-1)-len(key)-4-binary.MaxVarintLen64 {
		panic("engine: key arena over 4 GiB") // far beyond any partition's live recordings
	}
	d.arena = binary.LittleEndian.AppendUint32(d.arena, id)
	d.arena = binary.AppendUvarint(d.arena, uint64(len(key)))
	d.arena = append(d.arena, key...)
	if (d.used+1)*2 > len(d.slots) {
		d.resize(2 * len(d.slots))
	}
	d.place(uint64(d.hash(key))<<32 | uint64(off+1))
	d.used++
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
	h := d.hash(key)
	mask := uint64(len(d.slots) - 1)
	want := uint64(h)<<32 | uint64(off+1)
	i := uint64(h) & mask
	for d.slots[i] != want {
		if d.slots[i] == 0 {
			panic("engine: removing a recording that is not in the dictionary")
		}
		i = (i + 1) & mask
	}
	d.dead += 4 + uvarintLen(len(key)) + len(key)
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
// moved(id, off) for every entry with its new offset.
func (d *dictionary) compact(moved func(id, off uint32)) {
	if d.dead >= 1<<20 && d.dead*2 >= len(d.arena) {
		d.rewrite(moved)
	}
}

// rewrite rebuilds the arena and the table from the live entries.
func (d *dictionary) rewrite(moved func(id, off uint32)) {
	old := d.arena
	d.arena = make([]byte, 0, len(old)-d.dead)
	d.dead = 0
	clear(d.slots)
	d.used = 0
	for off := 0; off < len(old); {
		id := binary.LittleEndian.Uint32(old[off:])
		n, w := binary.Uvarint(old[off+4:])
		end := off + 4 + w + int(n)
		if id != keyNone {
			moved(id, d.insert(old[off+4+w:end], id))
		}
		off = end
	}
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}
