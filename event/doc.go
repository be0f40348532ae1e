// Package event decodes and validates the recording events that producers publish to Kafka, and
// encodes them back to JSON.
//
// A message's key is the project_id; its value is one JSON object:
//
//	{"project_id":"p1","publish_domain":"push.example.com","app":"live","stream":"s1",
//	 "record_format":"HLS","event_type":"RECORD_START","event_time":"2026-11-25T07:20:40Z",
//	 "event_id":"e-1"}
//
// Decoder.Decode checks a message and fills an Event without allocating in the steady state;
// the Event's byte slices point into the message or into the Decoder, so they are valid only
// until the next Decode. A rejected message gets an *Error whose Reason is a stable code for
// the dead-letter header and the metrics label. The rules:
//
//   - The value is at most MaxMessageBytes (64 KiB), else ReasonTooLarge.
//   - The value is exactly one JSON object (RFC 8259) in valid UTF-8, with nothing but
//     whitespace after it, nested at most 10000 deep as in encoding/json, else ReasonNotJSON.
//     Escapes, \uXXXX surrogate pairs included, are decoded; a lone surrogate becomes U+FFFD,
//     as in encoding/json.
//   - Field names are matched exactly (case-sensitive). Unknown fields may hold any JSON value
//     and are skipped. A known field that holds anything but a string, null included, is
//     ReasonWrongType.
//   - A field that appears more than once takes its last value, as in encoding/json; every
//     occurrence must still be a string.
//   - project_id, publish_domain, app, stream, event_type and event_time are required
//     (ReasonMissingField) and must not be empty (ReasonEmptyField). Lengths are counted in
//     bytes after unescaping: project_id at most 64, publish_domain, app and stream at most
//     255, record_format at most 16 (ReasonFieldTooLong). record_format and event_id are
//     optional; record_format defaults to "", and event_id is not checked.
//   - project_id uses only A-Z, a-z, 0-9, '_' and '-' (ReasonInvalidProjectID).
//   - event_type is one of the five Type names, matched exactly (ReasonUnknownEventType).
//   - event_time is an RFC 3339 date-time, YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm), with 'T'
//     and 'Z' in either case, a fraction of 1 to 9 digits and real calendar dates. A leap
//     second (ss = 60) is rejected, as time.Parse rejects it; the instant must fit int64 Unix
//     nanoseconds (years 1677 to 2262). Else ReasonInvalidTime.
//   - A non-nil key equals project_id byte for byte (ReasonKeyMismatch).
//
// The checks run in that order (the JSON type of known fields before the per-field rules,
// which go field by field), and the first failure is reported.
//
// A Decoder remembers the minute of the last event_time it parsed, so that a time in the same
// minute — most of a partition's events — needs only its seconds converted; the results are
// those of a fresh Decoder.
//
// The reasons ReasonTooLate, ReasonTooOld and ReasonFuture are decided by the engine from the
// event time; they are declared here so that all dead-letter codes live in one place.
//
// AppendJSON writes an Event in canonical form; Decode(AppendJSON(ev)) gives ev back.
package event
