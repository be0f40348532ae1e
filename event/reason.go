package event

// Reason is why a message was rejected. Its String is a stable snake_case code: it is written to
// the dead-letter header and used as a metric label, so existing codes must never change.
type Reason uint8

// The rejection reasons. The comment after each gives its String code.
const (
	// ReasonNone means the message was not rejected.
	ReasonNone Reason = iota
	// ReasonNotJSON ("not_json"): the value is not exactly one JSON object in valid UTF-8.
	ReasonNotJSON
	// ReasonTooLarge ("message_too_large"): the value is over MaxMessageBytes.
	ReasonTooLarge
	// ReasonMissingField ("missing_field"): a required field is absent.
	ReasonMissingField
	// ReasonEmptyField ("empty_field"): a required field is the empty string.
	ReasonEmptyField
	// ReasonFieldTooLong ("field_too_long"): a field is longer than its limit.
	ReasonFieldTooLong
	// ReasonWrongType ("wrong_field_type"): a known field holds a JSON value that is not a string.
	ReasonWrongType
	// ReasonInvalidProjectID ("invalid_project_id"): project_id has a byte outside [A-Za-z0-9_-].
	ReasonInvalidProjectID
	// ReasonUnknownEventType ("unknown_event_type"): event_type is not one of the five types.
	ReasonUnknownEventType
	// ReasonInvalidTime ("invalid_event_time"): event_time is not a valid RFC 3339 date-time.
	ReasonInvalidTime
	// ReasonKeyMismatch ("key_mismatch"): the Kafka message key differs from project_id.
	ReasonKeyMismatch
	// ReasonTooLate ("too_late"): the engine found the event behind its partition's watermark
	// by more than the correction horizon. The decoder never returns it.
	ReasonTooLate
	// ReasonTooOld ("too_old"): the engine found the event older than the 90-day retention.
	// The decoder never returns it.
	ReasonTooOld
	// ReasonFuture ("future_time"): the engine found the event ahead of the wall clock by more
	// than the maximum clock skew. The decoder never returns it.
	ReasonFuture
	// ReasonInternal ("internal_error"): applying the message failed for a reason that is not a
	// rule of the contract — a bug. The message is kept, and the error logged.
	ReasonInternal

	numReasons // the number of reasons, ReasonNone included; keep it last
)

// reasonCodes holds the String codes, indexed by Reason.
var reasonCodes = [numReasons]string{
	ReasonNone:             "none",
	ReasonNotJSON:          "not_json",
	ReasonTooLarge:         "message_too_large",
	ReasonMissingField:     "missing_field",
	ReasonEmptyField:       "empty_field",
	ReasonFieldTooLong:     "field_too_long",
	ReasonWrongType:        "wrong_field_type",
	ReasonInvalidProjectID: "invalid_project_id",
	ReasonUnknownEventType: "unknown_event_type",
	ReasonInvalidTime:      "invalid_event_time",
	ReasonKeyMismatch:      "key_mismatch",
	ReasonTooLate:          "too_late",
	ReasonTooOld:           "too_old",
	ReasonFuture:           "future_time",
	ReasonInternal:         "internal_error",
}

// String returns the stable snake_case code of r, such as "not_json". It returns "none" for
// ReasonNone and "unknown" for a value that is not a declared Reason.
func (r Reason) String() string {
	if r < numReasons {
		return reasonCodes[r]
	}
	return "unknown"
}

// AllReasons returns every declared Reason except ReasonNone, in declaration order, so that
// metrics can pre-register one label value per reason. The caller may modify the slice.
func AllReasons() []Reason {
	rs := make([]Reason, 0, numReasons-1)
	for r := ReasonNone + 1; r < numReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// Error is the rejection of a message (or, from the engine, of a decoded event). Dead-letter
// headers and metric labels use Reason.String(); Msg is for the people who run the producer.
type Error struct {
	// Reason is why the message was rejected.
	Reason Reason
	// Field is the JSON field concerned, such as "event_time", or "" when no single field is.
	Field string
	// Msg says what is wrong and what the producer should do about it.
	Msg string
}

// Error returns "event: <reason code>: <Msg>".
func (e *Error) Error() string { return "event: " + e.Reason.String() + ": " + e.Msg }
