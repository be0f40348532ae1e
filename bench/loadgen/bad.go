package loadgen

import (
	"bytes"

	"github.com/recordusage/recordusage/event"
)

// badKind is how a bad message breaks CONTRACT.md §2.
type badKind uint8

const (
	badNotJSON      badKind = iota // the JSON is cut short
	badMissingField                // event_time is left out
	badUnknownType                 // event_type is "UNKNOWN"
	badTime                        // event_time has a space for its 'T'
	badKeyMismatch                 // project_id differs from the key
	numBadKinds
)

// appendBad appends a broken form of ev to buf. Bad messages are rare, so this favours
// simplicity over speed.
func appendBad(buf []byte, ev *event.Event, p *project, kind badKind) []byte {
	start := len(buf)
	switch kind {
	case badUnknownType:
		ev.Type = event.TypeUnknown // encoded as "UNKNOWN"
	case badKeyMismatch:
		ev.ProjectID = p.otherID
	}
	buf = event.AppendJSON(buf, ev)
	const timeField = `,"event_time":"`
	i := bytes.Index(buf[start:], []byte(timeField)) + start + len(timeField)
	switch kind {
	case badNotJSON:
		buf = buf[:len(buf)-12] // inside event_id's string: the object never ends
	case badMissingField:
		end := i + bytes.IndexByte(buf[i:], '"') + 1
		n := copy(buf[i-len(timeField):], buf[end:])
		buf = buf[:i-len(timeField)+n]
	case badTime:
		buf[i+len("2006-01-02")] = ' ' // 2006-01-02 15:04:05Z is not RFC 3339
	}
	return buf
}
