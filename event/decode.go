package event

import (
	"bytes"
	"fmt"
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
	if !s.next('}') {
		expect := 0 // the field that comes next in the usual order
		for {
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
					mark := len(d.scratch)
					d.scratch = unescape(d.reserve(len(name), len(value)), name)
					name = d.scratch[mark:]
					d.scratch = d.scratch[:mark]
				}
				f = fieldOf(name)
			}
			if f >= 0 {
				expect = f + 1
			}
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
					mark := len(d.scratch)
					d.scratch = unescape(d.reserve(len(raw), len(value)), raw)
					raw = d.scratch[mark:len(d.scratch):len(d.scratch)]
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
			if ev.Time, ok = parseTime(v); !ok {
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
	ev.ProjectID = vals[fProjectID]
	ev.PublishDomain = vals[fPublishDomain]
	ev.App = vals[fApp]
	ev.Stream = vals[fStream]
	ev.RecordFormat = nilIfEmpty(vals[fRecordFormat])
	ev.EventID = nilIfEmpty(vals[fEventID])
	return nil
}

// badProjectIDByte returns the offset of the first byte of id outside [A-Za-z0-9_-], or -1.
func badProjectIDByte(id []byte) int {
	for i, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return i
		}
	}
	return -1
}

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
