// Package results is the wire format of the hourly results that ingest publishes to the
// compacted topic record-usage-hourly and that query materializes (CONTRACT.md §7), and the one
// place of the rules every hop shares: what an hour's peak is (Peak), how it packs into a word,
// how a zero hour reads, and how a publish domain is compared. It imports nothing of the
// project, so the query binary links neither the engine nor the event decoder.
//
// Key: {"project_id":"…","domain":"…","hour":"YYYY-MM-DDThh:00:00Z"} with domain "*" for the
// whole project. Value: {"concurrent_count":N,"time":"YYYY-MM-DDThh:mm:00Z","final":bool}, or
// empty (a tombstone: the hour has no value and reads as 0).
// Both are JSON so that operators can read the topic with any console consumer; the key's field
// order is fixed, so the same hour always has byte-identical keys and compaction keeps only the
// latest value. Publishing is idempotent: a replay writes the same key with the same value.
package results

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Peak is the value of one hour of one series: the maximum number of concurrent recordings
// over its minutes and the earliest minute of the hour (0–59) reaching it. The zero Peak is the
// value of an hour without activity, which reads as 0 at hh:00 (CONTRACT.md §3): a Peak whose
// Count is 0 always has Minute 0 (see Canonical).
type Peak struct {
	Count  uint32
	Minute uint8
}

// Canonical returns p with the rule of the zero hour applied: a count of 0 is at minute 0.
func (p Peak) Canonical() Peak {
	if p.Count == 0 {
		return Peak{}
	}
	return p
}

// Better reports whether p beats q as an hour's peak: a higher count, or the same count earlier.
func (p Peak) Better(q Peak) bool {
	return p.Count > q.Count || (p.Count == q.Count && p.Minute < q.Minute)
}

// Pack encodes the canonical p in one word (count in the upper bits, minute in the low 8), so
// that it can be stored and read atomically. The zero Peak packs to 0.
func (p Peak) Pack() uint64 {
	p = p.Canonical()
	return uint64(p.Count)<<8 | uint64(p.Minute)
}

// UnpackPeak decodes a word written by Pack.
func UnpackPeak(w uint64) Peak { return Peak{Count: uint32(w >> 8), Minute: uint8(w)} }

// At returns the time of the peak in the hour starting at hour: hh:mm, hh:00 for a zero hour.
func (p Peak) At(hour time.Time) time.Time {
	return hour.Add(time.Duration(p.Canonical().Minute) * time.Minute)
}

// LowerDomain returns a publish domain as it is counted, published and queried: in lower case.
// A publish domain is a host name, and host names are case-insensitive (RFC 4343), so
// "Push.Example.com" and "push.example.com" are one domain. Only ASCII letters are folded, as
// RFC 4343 says.
func LowerDomain(d string) string {
	for i := 0; i < len(d); i++ {
		if isUpper(d[i]) {
			return string(AppendLowerDomain(make([]byte, 0, len(d)), []byte(d)))
		}
	}
	return d
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// AppendLowerDomain appends the lower-case form of d to dst (see LowerDomain), for callers that
// must not allocate.
func AppendLowerDomain(dst, d []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(d))[:n+len(d)]
	b := dst[n:]
	// Eight bytes at a time, read from d and written lowered to b in one pass (the engine lowers
	// the domain of every event): a byte gets 0x20 when its low seven bits are in 'A'..'Z' and its
	// high bit is clear. Adding to the seven low bits never carries into the next byte.
	i := 0
	for ; i+8 <= len(d); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], lowerWord(binary.LittleEndian.Uint64(d[i:])))
	}
	if i < len(d) && len(d) >= 8 {
		// The last bytes as the word that ends with them, which overlaps the one before: its
		// bytes are lowered once more, which changes nothing.
		j := len(d) - 8
		binary.LittleEndian.PutUint64(b[j:], lowerWord(binary.LittleEndian.Uint64(d[j:])))
		return dst
	}
	for ; i < len(d); i++ {
		c := d[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return dst
}

// lowerWord lowers the ASCII letters among the eight bytes of w.
func lowerWord(w uint64) uint64 {
	const lo7, high = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	const belowA, aboveZ = (0x80 - 'A') * (high / 0x80), (0x80 - 'Z' - 1) * (high / 0x80)
	x := w & lo7
	return w | ((x+belowA)&^(x+aboveZ)&^w&high)>>2
}

// HasUpper reports whether d has an upper-case ASCII letter, i.e. whether LowerDomain changes it.
func HasUpper(d []byte) bool {
	for _, c := range d {
		if isUpper(c) {
			return true
		}
	}
	return false
}

// AllDomains is the domain of a project's whole-project series on the topic.
const AllDomains = "*"

// SourceHeader is the header of every record ingest writes that names the input topic and
// partition whose engine computed it (SourceValue). All of a project's events are in one input
// partition, so all records of a series name the same one; records of one series from two
// partitions of one input topic mean that the project's events are split between them (producers
// placing keys differently, or partitions added to the input), and the query service reports it.
// Another topic is a move to a new input (docs/operations.md, Scaling out), not a split. Records
// without the header (written before it existed) name none.
const SourceHeader = "source"

// SourceValue is the value of SourceHeader: "topic/partition" (a topic name has no '/').
func SourceValue(topic string, partition int) []byte {
	return strconv.AppendInt(append([]byte(topic), '/'), int64(partition), 10)
}

// ParseSource reads a value of SourceHeader; ok is false when it is not one. topic is a part of
// v, so that the query service, which reads one per record, compares it without copying it.
func ParseSource(v []byte) (topic []byte, partition int, ok bool) {
	i := bytes.LastIndexByte(v, '/')
	if i <= 0 {
		return nil, 0, false
	}
	p, err := strconv.Atoi(string(v[i+1:]))
	if err != nil || p < 0 {
		return nil, 0, false
	}
	return v[:i], p, true
}

// Record is one result: the value of an hour of a series, or a tombstone that deletes it.
type Record struct {
	ProjectID string
	Domain    string // "" for the project as a whole; AllDomains on the wire
	Hour      int64  // start of the hour, Unix seconds
	Peak      Peak
	Final     bool // no event can change the value any more
	// Tombstone says the hour has no value: its key is deleted from the topic and reads as 0.
	Tombstone bool
}

// HourTime returns the start of the record's hour.
func (r Record) HourTime() time.Time { return time.Unix(r.Hour, 0).UTC() }

// key and value are the JSON shapes on the topic.
type key struct {
	ProjectID string `json:"project_id"`
	Domain    string `json:"domain"`
	Hour      string `json:"hour"`
}

type value struct {
	Count  uint32 `json:"concurrent_count"`
	Minute string `json:"time"`
	Final  bool   `json:"final"`
}

// ErrBadRecord is returned for a record that is not a result.
var ErrBadRecord = errors.New("results: bad record")

const layout = "2006-01-02T15:04:05Z"

// Encode returns the key and value of a record. A tombstone has a nil value: the compacted
// topic deletes the key. The bytes are those of encoding/json's Marshal of the key and value
// shapes (compaction needs the same key bytes for the same hour, whichever version wrote them),
// written without reflection (encode.go).
func Encode(r Record) (k, v []byte) {
	d := r.Domain
	if d == "" {
		d = AllDomains
	}
	hour := r.HourTime()
	k = appendKey(make([]byte, 0, 48+len(r.ProjectID)+len(d)), r.ProjectID, d, hour)
	if r.Tombstone {
		return k, nil
	}
	return k, appendValue(make([]byte, 0, 72), r.Peak.Count, r.Peak.At(hour), r.Final)
}

// Decode parses a key and value written by Encode; a nil value decodes as a tombstone. The bytes
// Encode writes are read without reflection (decodeFast); anything else — other spacing, field
// order, escapes — is read with encoding/json, with the same result.
func Decode(k, v []byte) (Record, error) {
	if r, ok := decodeFast(k, v); ok {
		return r, nil
	}
	return decodeJSON(k, v)
}

// decodeJSON is Decode with encoding/json.
func decodeJSON(k, v []byte) (Record, error) {
	var kk key
	if err := json.Unmarshal(k, &kk); err != nil {
		return Record{}, fmt.Errorf("%w: key %q: %v", ErrBadRecord, k, err)
	}
	hour, err := time.Parse(layout, kk.Hour)
	if err != nil || kk.ProjectID == "" || kk.Domain == "" || hour.Truncate(time.Hour) != hour {
		return Record{}, fmt.Errorf("%w: key %q", ErrBadRecord, k)
	}
	r := Record{ProjectID: kk.ProjectID, Domain: kk.Domain, Hour: hour.Unix(), Tombstone: v == nil}
	if r.Domain == AllDomains {
		r.Domain = ""
	}
	if v == nil {
		return r, nil
	}
	var vv value
	if err := json.Unmarshal(v, &vv); err != nil {
		return Record{}, fmt.Errorf("%w: value %q: %v", ErrBadRecord, v, err)
	}
	minute, err := time.Parse(layout, vv.Minute)
	if err != nil || minute.Before(hour) || !minute.Before(hour.Add(time.Hour)) || minute.Truncate(time.Minute) != minute {
		return Record{}, fmt.Errorf("%w: value %q for key %q", ErrBadRecord, v, k)
	}
	r.Peak = Peak{Count: vv.Count, Minute: uint8(minute.Sub(hour) / time.Minute)}.Canonical()
	r.Final = vv.Final
	return r, nil
}
