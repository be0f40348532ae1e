package event

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// MaxMessageBytes is the largest message value accepted, in bytes (64 KiB).
const MaxMessageBytes = 64 << 10

// Event is one decoded recording event. Its byte-slice fields alias the message value or the
// Decoder's scratch buffer: they are valid only until the next Decode call on the same Decoder,
// and whoever keeps them must copy them.
type Event struct {
	// ProjectID is the tenant: 1 to 64 bytes of [A-Za-z0-9_-].
	ProjectID []byte
	// PublishDomain is the push domain: 1 to 255 bytes.
	PublishDomain []byte
	// App is the application name: 1 to 255 bytes.
	App []byte
	// Stream is the stream name: 1 to 255 bytes.
	Stream []byte
	// RecordFormat is the recording format, such as HLS, FLV or MP4: 0 to 16 bytes, nil when
	// absent or empty.
	RecordFormat []byte
	// EventID is the producer's opaque id, for tracing only: nil when absent or empty.
	EventID []byte
	// Type is the kind of event; never TypeUnknown after a successful Decode.
	Type Type
	// Time is event_time as Unix nanoseconds (UTC).
	Time int64
}

// The fields of the message, in the order in which Decode checks them.
const (
	fProjectID = iota
	fPublishDomain
	fApp
	fStream
	fRecordFormat
	fEventType
	fEventTime
	fEventID
	numFields
)

// fieldNames holds the JSON names, indexed by field.
var fieldNames = [numFields]string{"project_id", "publish_domain", "app", "stream", "record_format",
	"event_type", "event_time", "event_id"}

// maxLen holds the length limit of each field in bytes; event_type and event_time are limited by
// their syntax, event_id only by MaxMessageBytes.
var maxLen = [numFields]int{
	fProjectID: 64, fPublishDomain: 255, fApp: 255, fStream: 255, fRecordFormat: 16,
	fEventType: MaxMessageBytes, fEventTime: MaxMessageBytes, fEventID: MaxMessageBytes,
}

// quotedNames holds `"name":` for each field: producers mostly send the fields in this order,
// and Decode tries the expected one before scanning a key as a string.
var quotedNames = func() (q [numFields][]byte) {
	for f, name := range fieldNames {
		q[f] = []byte(`"` + name + `":`)
	}
	return q
}()

// fieldOf returns the field whose JSON name is name, or -1.
func fieldOf(name []byte) int {
	switch string(name) { // no allocation: the compiler compares in place
	case "project_id":
		return fProjectID
	case "publish_domain":
		return fPublishDomain
	case "app":
		return fApp
	case "stream":
		return fStream
	case "record_format":
		return fRecordFormat
	case "event_type":
		return fEventType
	case "event_time":
		return fEventTime
	case "event_id":
		return fEventID
	}
	return -1
}

// Decoder decodes messages into Events without allocating in the steady state. Its zero value is
// ready to use. It is not safe for concurrent use: give each partition consumer its own.
type Decoder struct {
	// scratch holds the unescaped strings of the last message, for the fields that had escapes.
	scratch []byte
	// stack remembers the kinds of the open containers while unknown fields are skipped.
	stack nestStack
	// minute caches the conversion of event_time's minute.
	minute minuteCache
}

// Decode checks the message key and value and fills ev, which it first resets. key may be nil,
// and then it is not checked; otherwise it must equal project_id byte for byte. On bad input
// Decode returns an *Error, and ev holds nothing useful.
//
// The checks run in a fixed order and the first failure is returned: the size of value; the JSON
// syntax of the whole value; the JSON type of every known field, in message order; then for each
// field in the order project_id, publish_domain, app, stream, record_format, event_type,
// event_time: presence, emptiness, length, content; last, the key.
func (d *Decoder) Decode(key, value []byte, ev *Event) error {
	return d.decode(key, value, ev, true)
}

// decode is Decode, with the fast path for the usual field order turned off when fast is false,
// so that tests can compare the two.
func (d *Decoder) decode(key, value []byte, ev *Event, fast bool) error {
	*ev = Event{}
	if len(value) > MaxMessageBytes {
		return &Error{Reason: ReasonTooLarge, Msg: fmt.Sprintf(
			"message is %d bytes, over the limit of %d; send one event per message and drop unneeded fields",
			len(value), MaxMessageBytes)}
	}
	var vals [numFields][]byte
	var seen uint
	wrongField, wrongKind := -1, ""
	d.scratch = d.scratch[:0]
	s := scanner{b: value, stack: &d.stack}
	if !s.next('{') {
		if s.i < len(s.b) {
			s.err, s.pos = "the message is not a JSON object", s.i
		} else {
			s.err, s.pos = "unexpected end of input", s.i
		}
		return d.notJSON(&s)
	}
	expect := 0 // the field that comes next in the usual order
	for done := s.next('}'); !done; {
		if fast {
			// Most members, often all, come in the usual form: take them in one go, and go on
			// below only with a member that is not. After a known field the fast path is
			// tried again; after an unknown one it is not, as more unknown ones may follow.
			if s.i, expect, done = usualMembers(value, s.i, expect, &vals, &seen); done {
				break
			}
		}
		f := -1
		if s.ws(); expect < numFields && bytes.HasPrefix(s.b[s.i:], quotedNames[expect]) {
			// Exactly what key would scan: the name, unescaped, then ':'.
			f = expect
			s.i += len(quotedNames[f])
		} else {
			name, escaped, ok := s.key()
			if !ok {
				return d.notJSON(&s)
			}
			if escaped {
				var mark int
				name, mark = d.unescapeToScratch(name, len(value))
				d.scratch = d.scratch[:mark] // the name is only looked up
			}
			f = fieldOf(name)
		}
		if f >= 0 {
			expect = f + 1
		}
		fast = fast && f >= 0
		switch c := s.peek(); {
		case f < 0 || c != '"':
			if f >= 0 && wrongField < 0 {
				wrongField, wrongKind = f, kindOf(c)
			}
			if !s.skip(1) {
				return d.notJSON(&s)
			}
		default:
			raw, escaped, ok := s.str()
			if !ok {
				return d.notJSON(&s)
			}
			if escaped {
				raw, _ = d.unescapeToScratch(raw, len(value))
			}
			vals[f] = raw // a duplicate field replaces the earlier one, as in encoding/json
			seen |= 1 << f
		}
		if s.next(',') {
			continue
		}
		if s.next('}') {
			break
		}
		s.failHere("invalid character (want ',' or '}' in an object)")
		return d.notJSON(&s)
	}
	if s.ws(); s.i < len(s.b) {
		s.err, s.pos = "data after the JSON object", s.i
		return d.notJSON(&s)
	}
	if wrongField >= 0 {
		name := fieldNames[wrongField]
		return &Error{Reason: ReasonWrongType, Field: name,
			Msg: fmt.Sprintf("field %q is %s, want a string; send it as a JSON string", name, wrongKind)}
	}
	return d.check(key, &vals, seen, ev)
}

// usualMembers decodes, from b[i:] at the start of a member, the members that come in the order
// of the fields from field from on (record_format and event_id may be absent), each a string
// with no escape and only printable ASCII: that is how AppendJSON and nearly every producer
// write a message. It does in one pass what the general loop of decode does with several calls
// per member, and never reports an error: it returns the offset of the first member that is
// anything else (another name, a duplicate, another kind of value, an escape, a non-ASCII or
// control byte, a syntax error) with the field expected there, and the general loop decodes
// that member with the same state (vals, seen) as if it had decoded the members before it
// itself. done is true when the members ended with the closing '}', and then next is the
// offset after it.
func usualMembers(b []byte, i, from int, vals *[numFields][]byte, seen *uint) (next, expect int, done bool) {
	// The member is walked as ever shorter slices of b rather than offsets into it: a load at
	// a constant index of a slice whose length is known needs no bounds check nor offset
	// arithmetic, and that is most of the work here.
	for f := from; f < numFields; f++ {
		m := b[i:]
		if len(m) > 0 && m[0] <= ' ' {
			m = trimWS(m)
		}
		// The name, compared two words at a time.
		k := &nameKeys[f]
		var named bool
		if len(m) >= 17 {
			w0, w1 := binary.LittleEndian.Uint64(m[0:8]), binary.LittleEndian.Uint64(m[8:16])
			named = (w0^k.word[0])&k.mask[0]|(w1^k.word[1])&k.mask[1] == 0 && m[16]&k.mask16 == k.b16
		} else {
			named = bytes.HasPrefix(m, quotedNames[f])
		}
		if !named {
			if f == fRecordFormat || f == fEventID {
				continue // absent, or out of order: the next field may still match here
			}
			return i, f, false
		}
		v := m[k.len:]
		if len(v) > 0 && v[0] <= ' ' {
			v = trimWS(v)
		}
		if len(v) == 0 || v[0] != '"' {
			return i, f, false
		}
		v = v[1:]
		// The string's plain bytes a word at a time, as in scanner.str, the first two words
		// inline, which is all that most values need; the first byte that stops the run must
		// be the closing quote.
		var n int
		if len(v) >= 16 {
			if stop := stopBytes(binary.LittleEndian.Uint64(v[0:8])); stop != 0 {
				n = bits.TrailingZeros64(stop) / 8
			} else if stop = stopBytes(binary.LittleEndian.Uint64(v[8:16])); stop != 0 {
				n = 8 + bits.TrailingZeros64(stop)/8
			} else {
				n = plainRun(v, 16)
			}
		} else {
			n = plainRun(v, 0)
		}
		if n >= len(v) || v[n] != '"' {
			return i, f, false
		}
		rest := v[n+1:]
		if len(rest) > 0 && rest[0] <= ' ' {
			rest = trimWS(rest)
		}
		if len(rest) == 0 || rest[0] != ',' && rest[0] != '}' {
			return i, f, false
		}
		vals[f] = v[:n]
		*seen |= 1 << f
		if i = len(b) - len(rest) + 1; rest[0] == '}' {
			return i, f + 1, true
		}
	}
	return i, numFields, false
}

// trimWS returns b without the JSON whitespace at its start.
func trimWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// nameKey is `"name":` of a field, 6 to 17 bytes, as the words and masks of its first 16 bytes
// (little-endian, the masks keeping the bytes of the name) and of its 17th byte, which only
// "publish_domain" has; and its length.
type nameKey struct {
	word, mask  [2]uint64
	b16, mask16 byte
	len         int
}

// nameKeys holds the nameKey of each field, built from quotedNames.
var nameKeys = func() (keys [numFields]nameKey) {
	for f, q := range quotedNames {
		var w, m [17]byte
		n := copy(w[:], q)
		for i := range n {
			m[i] = 0xff
		}
		keys[f] = nameKey{len: len(q), b16: w[16], mask16: m[16],
			word: [2]uint64{binary.LittleEndian.Uint64(w[:]), binary.LittleEndian.Uint64(w[8:])},
			mask: [2]uint64{binary.LittleEndian.Uint64(m[:]), binary.LittleEndian.Uint64(m[8:])}}
	}
	return keys
}()

// reserve makes sure that scratch has room for need more bytes and returns it. When it must
// grow, it grows to hold a whole message of the given length: unescaping never lengthens a
// string, so the rest of that message then fits without growing again, and a Decoder that has
// seen its largest message no longer allocates.
func (d *Decoder) reserve(need, message int) []byte {
	if cap(d.scratch)-len(d.scratch) < need {
		grown := make([]byte, len(d.scratch), max(len(d.scratch)+need, message, 512))
		copy(grown, d.scratch)
		d.scratch = grown
	}
	return d.scratch
}

// kindOf names the JSON type of the value that starts with c, for messages.
func kindOf(c byte) string {
	switch c {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	}
	return "a JSON number"
}

// notJSON returns the error for the syntax error recorded in s.
func (d *Decoder) notJSON(s *scanner) error {
	return &Error{Reason: ReasonNotJSON, Msg: fmt.Sprintf(
		"message is not valid JSON: %s at byte %d; send exactly one JSON object in UTF-8 per message",
		s.err, s.pos)}
}

// check validates the field values found in the message and fills ev.
func (d *Decoder) check(key []byte, vals *[numFields][]byte, seen uint, ev *Event) error {
	// Nearly every message passes: test all the rules at once, without the loop below, which
	// then runs only to find and describe the first rule that fails. (event_type and
	// event_time need no tests of presence and length here: ParseType and parseTime reject
	// an empty or over-long value, and an absent one is empty.)
	const required = 1<<fProjectID | 1<<fPublishDomain | 1<<fApp | 1<<fStream | 1<<fEventType | 1<<fEventTime
	if seen&required == required && inLen(vals[fProjectID], maxLen[fProjectID]) &&
		inLen(vals[fPublishDomain], maxLen[fPublishDomain]) && inLen(vals[fApp], maxLen[fApp]) &&
		inLen(vals[fStream], maxLen[fStream]) && len(vals[fRecordFormat]) <= maxLen[fRecordFormat] &&
		badProjectIDByte(vals[fProjectID]) < 0 && (key == nil || bytes.Equal(key, vals[fProjectID])) {
		typ := ParseType(vals[fEventType])
		t, ok := d.minute.parseTime(vals[fEventTime])
		if typ != TypeUnknown && ok {
			ev.Type, ev.Time = typ, t
			ev.fill(vals)
			return nil
		}
	}
	for f := range fEventID { // event_id has no rules
		v, name := vals[f], fieldNames[f]
		switch {
		case seen&(1<<f) == 0 && f != fRecordFormat:
			return &Error{Reason: ReasonMissingField, Field: name,
				Msg: fmt.Sprintf("required field %q is missing; add it to every event", name)}
		case len(v) == 0 && f != fRecordFormat:
			return &Error{Reason: ReasonEmptyField, Field: name,
				Msg: fmt.Sprintf("required field %q is empty; send a non-empty string", name)}
		case len(v) > maxLen[f]:
			return &Error{Reason: ReasonFieldTooLong, Field: name, Msg: fmt.Sprintf(
				"field %q is %d bytes, over its limit of %d; shorten it", name, len(v), maxLen[f])}
		}
		switch f {
		case fProjectID:
			if i := badProjectIDByte(v); i >= 0 {
				return &Error{Reason: ReasonInvalidProjectID, Field: name, Msg: fmt.Sprintf(
					"project_id %s has %q at byte %d; use only A-Z, a-z, 0-9, '_' and '-'",
					quote(v), v[i], i)}
			}
		case fEventType:
			if ev.Type = ParseType(v); ev.Type == TypeUnknown {
				return &Error{Reason: ReasonUnknownEventType, Field: name, Msg: fmt.Sprintf(
					"event_type %s is not one of RECORD_START, RECORD_NEW_FILE_START, RECORD_OVER, "+
						"RECORD_FAILED, RECORD_FILE_COMPLETE (names are case-sensitive)", quote(v))}
			}
		case fEventTime:
			var ok bool
			if ev.Time, ok = d.minute.parseTime(v); !ok {
				return &Error{Reason: ReasonInvalidTime, Field: name, Msg: fmt.Sprintf(
					"event_time %s is not RFC 3339 (want e.g. 2026-11-25T07:20:40Z)", quote(v))}
			}
		}
	}
	if key != nil && !bytes.Equal(key, vals[fProjectID]) {
		return &Error{Reason: ReasonKeyMismatch, Field: "project_id", Msg: fmt.Sprintf(
			"message key %s differs from project_id %s; key every message by its project_id",
			quote(key), quote(vals[fProjectID]))}
	}
	ev.fill(vals)
	return nil
}

// fill sets the byte-slice fields of ev from the checked field values.
func (ev *Event) fill(vals *[numFields][]byte) {
	ev.ProjectID = vals[fProjectID]
	ev.PublishDomain = vals[fPublishDomain]
	ev.App = vals[fApp]
	ev.Stream = vals[fStream]
	ev.RecordFormat = nilIfEmpty(vals[fRecordFormat])
	ev.EventID = nilIfEmpty(vals[fEventID])
}

// inLen reports whether v has 1 to limit bytes.
func inLen(v []byte, limit int) bool { return uint(len(v)-1) < uint(limit) }

// badProjectIDByte returns the offset of the first byte of id outside [A-Za-z0-9_-], or -1.
func badProjectIDByte(id []byte) int {
	for i, c := range id {
		if !projectIDByte[c] {
			return i
		}
	}
	return -1
}

// projectIDByte[c] is true for the bytes allowed in a project_id: one table lookup per byte
// instead of five range tests.
var projectIDByte = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	return t
}()

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// quote returns b as a Go-quoted string for messages, cut after 64 bytes.
func quote(b []byte) string {
	const limit = 64
	if len(b) <= limit {
		return strconv.Quote(string(b))
	}
	n := limit
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return strconv.Quote(string(b[:n])) + fmt.Sprintf("… (%d bytes)", len(b))
}

// unescapeToScratch appends the unescaped form of the string raw (of a message of valueLen
// bytes) to the Decoder's scratch buffer and returns it, and the scratch length before it.
func (d *Decoder) unescapeToScratch(raw []byte, valueLen int) (out []byte, mark int) {
	mark = len(d.scratch)
	d.scratch = unescape(d.reserve(len(raw), valueLen), raw)
	return d.scratch[mark:len(d.scratch):len(d.scratch)], mark
}
