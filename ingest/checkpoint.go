package ingest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/internal/kafkax"
)

// Checkpoints are engine snapshots with the next input offset, kept in a compacted topic with as
// many partitions as the input topic: the checkpoint of input partition p lives in partition p.
// A snapshot is split into chunks under the keys "<topic>/<p>/<slot>/<i>"; the manifest
// "<topic>/<p>/manifest" names the slot, the number of chunks, the offset and a CRC. Two slots
// alternate, so a crash in the middle of writing a checkpoint leaves the previous one whole:
// the manifest is written last and points at a slot that was complete.
const chunkSize = 512 << 10 // under the broker's default 1 MiB message limit

// chunkBatchBytes bounds a batch of the checkpoint writer: one chunk, its key and the framing.
// The checkpoint topic must accept batches this big.
const chunkBatchBytes = chunkSize + 64<<10

type manifest struct {
	Slot       int    `json:"slot"`
	Epoch      uint64 `json:"epoch"`
	Chunks     int    `json:"chunks"`
	Size       int    `json:"size"`
	CRC        uint32 `json:"crc32c"`
	NextOffset int64  `json:"next_offset"`
	// Clean says the owner that wrote the checkpoint published nothing after it: it was the
	// last thing a stopping owner did. A successor restoring a checkpoint that is not clean
	// recovers (docs/reliability.md); one restoring a clean one rewrites it as not clean before
	// it publishes anything.
	Clean bool `json:"clean"`
	// InputPartitions is the input topic's partition count when the checkpoint was written (0 in
	// checkpoints older than the field): a restore that finds another count says so (restore).
	InputPartitions int `json:"input_partitions,omitempty"`
}

// checkpointer reads and writes the checkpoints of one input partition. It belongs to the
// partition's goroutine.
type checkpointer struct {
	kafka     kafkax.Client
	topic     string // the checkpoint topic
	input     string // the input topic, part of every key
	partition int    // input partition
	// inputPartitions is the input topic's partition count, written into every manifest.
	inputPartitions int
	writer          *kafka.Writer
	last            manifest
	has             bool
	chunks          [2]int // chunks written in each slot, to delete the extra ones
}

func (c *checkpointer) prefix() string {
	return c.input + "/" + strconv.Itoa(c.partition) + "/"
}

// load returns the latest complete checkpoint: the snapshot and the next offset. ok is false
// when the partition has none.
func (c *checkpointer) load(ctx context.Context, ckptPartitions int) (snap []byte, next int64, ok bool, err error) {
	latest := map[string][]byte{}
	prefix := c.prefix()
	err = c.kafka.ReadAll(ctx, c.topic, c.partition%ckptPartitions, func(m kafka.Message) error {
		if k := string(m.Key); strings.HasPrefix(k, prefix) {
			if m.Value == nil {
				delete(latest, k)
			} else {
				latest[k] = m.Value
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("read checkpoints of partition %d from %s: %w", c.partition, c.topic, err)
	}
	for slot := range 2 {
		for i := 0; ; i++ {
			if _, ok := latest[chunkKey(prefix, slot, i)]; !ok {
				c.chunks[slot] = i
				break
			}
		}
	}
	raw, found := latest[prefix+"manifest"]
	if !found {
		return nil, 0, false, nil
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, 0, false, fmt.Errorf("checkpoint manifest of partition %d is damaged: %w", c.partition, err)
	}
	snap = make([]byte, 0, m.Size)
	for i := range m.Chunks {
		v := latest[chunkKey(prefix, m.Slot, i)]
		if len(v) < 8 || binary.BigEndian.Uint64(v) != m.Epoch {
			return nil, 0, false, fmt.Errorf("checkpoint %d of partition %d: chunk %d missing or from another checkpoint",
				m.Epoch, c.partition, i)
		}
		snap = append(snap, v[8:]...)
	}
	if len(snap) != m.Size || crc32.Checksum(snap, castagnoli) != m.CRC {
		return nil, 0, false, fmt.Errorf("checkpoint %d of partition %d: size or checksum mismatch", m.Epoch, c.partition)
	}
	c.last, c.has = m, true
	return snap, m.NextOffset, true, nil
}

// save writes a checkpoint and returns once the broker has acknowledged all of it. clean says
// that the caller will publish nothing after it.
func (c *checkpointer) save(ctx context.Context, snap []byte, next int64, clean bool) error {
	m := manifest{Slot: 0, Epoch: 1, Size: len(snap), CRC: crc32.Checksum(snap, castagnoli), NextOffset: next, Clean: clean,
		InputPartitions: c.inputPartitions}
	if c.has {
		m.Slot, m.Epoch = 1-c.last.Slot, c.last.Epoch+1
	}
	prefix := c.prefix()
	var msgs []kafka.Message
	for i, off := 0, 0; off < len(snap) || i == 0; i++ {
		end := min(off+chunkSize, len(snap))
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+end-off), m.Epoch)
		msgs = append(msgs, kafka.Message{Key: []byte(chunkKey(prefix, m.Slot, i)), Value: append(v, snap[off:end]...)})
		m.Chunks = i + 1
		off = end
	}
	// Tombstones for chunks a bigger, older checkpoint left in this slot.
	for i := m.Chunks; i < c.chunks[m.Slot]; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(chunkKey(prefix, m.Slot, i))})
	}
	if err := c.writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write checkpoint %d of partition %d (%d bytes): %w", m.Epoch, c.partition, len(snap), err)
	}
	if err := c.writeManifest(ctx, m); err != nil {
		return err
	}
	c.chunks[m.Slot] = m.Chunks
	return nil
}

// markDirty rewrites the manifest of the loaded checkpoint as not clean: call it before
// publishing anything after restoring a clean checkpoint.
func (c *checkpointer) markDirty(ctx context.Context) error {
	m := c.last
	m.Clean, m.InputPartitions = false, c.inputPartitions
	return c.writeManifest(ctx, m)
}

func (c *checkpointer) writeManifest(ctx context.Context, m manifest) error {
	raw, _ := json.Marshal(m)
	if err := c.writer.WriteMessages(ctx, kafka.Message{Key: []byte(c.prefix() + "manifest"), Value: raw}); err != nil {
		return fmt.Errorf("write checkpoint manifest %d of partition %d: %w", m.Epoch, c.partition, err)
	}
	c.last, c.has = m, true
	return nil
}

func chunkKey(prefix string, slot, i int) string {
	return prefix + strconv.Itoa(slot) + "/" + strconv.Itoa(i)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// partitionOfKey sends a checkpoint message to the partition of its input partition, which is
// the second field of its key.
func partitionOfKey(msg kafka.Message, partitions ...int) int {
	parts := strings.SplitN(string(msg.Key), "/", 3)
	if len(parts) >= 2 {
		if p, err := strconv.Atoi(parts[1]); err == nil && p >= 0 {
			return partitions[p%len(partitions)]
		}
	}
	return partitions[0]
}
