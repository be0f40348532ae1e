package event

import (
	"time"
	"unicode/utf8"
)

// AppendJSON appends the canonical JSON encoding of ev to dst and returns the extended slice:
// the fields in the order project_id, publish_domain, app, stream, record_format, event_type,
// event_time, event_id, with record_format and event_id left out when empty, and event_time in
// RFC 3339 UTC with trailing zeros of the fraction trimmed (2026-11-25T07:20:40Z,
// 2026-11-25T07:20:40.123Z). Strings are escaped as encoding/json does, bytes that are not valid
// UTF-8 becoming U+FFFD. For every Event that Decode returns, Decode(AppendJSON(ev)) gives it back.
// AppendJSON does not allocate when dst has room.
func AppendJSON(dst []byte, ev *Event) []byte {
	dst = append(dst, `{"project_id":`...)
	dst = appendString(dst, ev.ProjectID)
	dst = append(dst, `,"publish_domain":`...)
	dst = appendString(dst, ev.PublishDomain)
	dst = append(dst, `,"app":`...)
	dst = appendString(dst, ev.App)
	dst = append(dst, `,"stream":`...)
	dst = appendString(dst, ev.Stream)
	if len(ev.RecordFormat) > 0 {
		dst = append(dst, `,"record_format":`...)
		dst = appendString(dst, ev.RecordFormat)
	}
	dst = append(dst, `,"event_type":"`...)
	dst = append(dst, ev.Type.String()...)
	dst = append(dst, `","event_time":"`...)
	dst = time.Unix(0, ev.Time).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if len(ev.EventID) > 0 {
		dst = append(dst, `,"event_id":`...)
		dst = appendString(dst, ev.EventID)
	}
	return append(dst, '}')
}

// appendString appends s as a quoted JSON string.
func appendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || n > 1 {
				if r != '\u2028' && r != '\u2029' { // escaped for JavaScript, as encoding/json does
					i += n
					continue
				}
			}
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xf])
			}
			i += n
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
