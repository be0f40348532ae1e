package event

// Type is the kind of a recording event, as named by the event_type field.
type Type uint8

// The event types. Their String values are the wire names of the event_type field.
const (
	// TypeUnknown is the zero Type; it is never the type of a decoded event.
	TypeUnknown Type = iota
	// RecordStart ("RECORD_START") says a recording became active.
	RecordStart
	// RecordNewFileStart ("RECORD_NEW_FILE_START") says a recording started a new file; it is active.
	RecordNewFileStart
	// RecordOver ("RECORD_OVER") says a recording stopped normally.
	RecordOver
	// RecordFailed ("RECORD_FAILED") says a recording stopped because of a failure.
	RecordFailed
	// RecordFileComplete ("RECORD_FILE_COMPLETE") says a file was closed; the state does not change.
	RecordFileComplete
)

// typeNames holds the wire names, indexed by Type.
var typeNames = [...]string{
	TypeUnknown:        "UNKNOWN",
	RecordStart:        "RECORD_START",
	RecordNewFileStart: "RECORD_NEW_FILE_START",
	RecordOver:         "RECORD_OVER",
	RecordFailed:       "RECORD_FAILED",
	RecordFileComplete: "RECORD_FILE_COMPLETE",
}

// String returns the wire name of t, such as "RECORD_START", or "UNKNOWN" when t is not one of
// the five event types.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return typeNames[TypeUnknown]
}

// Opens reports whether an event of type t makes its recording active (RecordStart and
// RecordNewFileStart).
func (t Type) Opens() bool { return t == RecordStart || t == RecordNewFileStart }

// Closes reports whether an event of type t stops its recording (RecordOver and RecordFailed).
func (t Type) Closes() bool { return t == RecordOver || t == RecordFailed }

// ParseType returns the Type whose wire name is b, matched exactly (case-sensitive), or
// TypeUnknown when b is not one of the five names. It does not allocate.
func ParseType(b []byte) Type {
	switch string(b) { // the compiler does not allocate for a switch on string(b)
	case "RECORD_START":
		return RecordStart
	case "RECORD_NEW_FILE_START":
		return RecordNewFileStart
	case "RECORD_OVER":
		return RecordOver
	case "RECORD_FAILED":
		return RecordFailed
	case "RECORD_FILE_COMPLETE":
		return RecordFileComplete
	}
	return TypeUnknown
}
