package event

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// validMsg is a typical message with every field.
const validMsg = `{"project_id":"proj_7f3a9c","publish_domain":"push.live.example.com","app":"live",` +
	`"stream":"room-1024-hd","record_format":"HLS","event_type":"RECORD_START",` +
	`"event_time":"2026-11-25T07:20:40.123Z","event_id":"evt-5f8e2b1c-3d4a-4e6f"}`

// msg builds a message from the required fields with defaults, replaced or removed (value "-")
// by the pairs in kv, which are raw JSON values; extra names are appended as written.
func msg(kv ...string) string {
	fields := [][2]string{
		{"project_id", `"p1"`}, {"publish_domain", `"push.example.com"`}, {"app", `"live"`},
		{"stream", `"s1"`}, {"event_type", `"RECORD_OVER"`}, {"event_time", `"2026-11-25T07:20:40Z"`},
	}
outer:
	for i := 0; i < len(kv); i += 2 {
		for j := range fields {
			if fields[j][0] == kv[i] {
				fields[j][1] = kv[i+1]
				continue outer
			}
		}
		fields = append(fields, [2]string{kv[i], kv[i+1]})
	}
	var b strings.Builder
	b.WriteByte('{')
	for _, f := range fields {
		if f[1] == "-" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + f[0] + `":` + f[1])
	}
	b.WriteByte('}')
	return b.String()
}

// dup appends a member to the JSON object m.
func dup(m, member string) string { return strings.TrimSuffix(m, "}") + "," + member + "}" }

func reasonOf(t *testing.T, err error) Reason {
	t.Helper()
	if err == nil {
		return ReasonNone
	}
	var e *Error
	require.True(t, errors.As(err, &e), "error %v is not an *Error", err)
	require.NotEmpty(t, e.Msg)
	return e.Reason
}

func TestDecodeRules(t *testing.T) {
	long := func(n int) string { return `"` + strings.Repeat("a", n) + `"` }
	tests := []struct {
		name  string
		key   string // "" means a nil key
		value string
		want  Reason
		field string
	}{
		{"valid", "proj_7f3a9c", validMsg, ReasonNone, ""},
		{"valid minimal", "p1", msg(), ReasonNone, ""},
		{"nil key is not checked", "", msg(), ReasonNone, ""},
		{"whitespace around", "", " \t\r\n" + msg() + " \n", ReasonNone, ""},

		{"not json", "", `hello`, ReasonNotJSON, ""},
		{"empty value", "", ``, ReasonNotJSON, ""},
		{"top-level array", "", `[` + msg() + `]`, ReasonNotJSON, ""},
		{"top-level string", "", `"x"`, ReasonNotJSON, ""},
		{"trailing garbage", "", msg() + `x`, ReasonNotJSON, ""},
		{"two objects", "", msg() + msg(), ReasonNotJSON, ""},
		{"truncated", "", msg()[:20], ReasonNotJSON, ""},
		{"trailing comma", "", strings.TrimSuffix(msg(), "}") + `,}`, ReasonNotJSON, ""},
		{"single quotes", "", `{'project_id':'p1'}`, ReasonNotJSON, ""},
		{"invalid utf-8 in value", "", msg("app", "\"li\xffve\""), ReasonNotJSON, ""},
		{"invalid utf-8 in unknown", "", msg("x", "\"\xc3\""), ReasonNotJSON, ""},
		{"utf-16 surrogate as utf-8", "", msg("app", "\"\xed\xa0\x80\""), ReasonNotJSON, ""},
		{"control char in string", "", msg("app", "\"a\nb\""), ReasonNotJSON, ""},
		{"bad escape", "", msg("app", `"a\qb"`), ReasonNotJSON, ""},
		{"short \\u escape", "", msg("app", `"a\u12"`), ReasonNotJSON, ""},
		{"bad number in unknown", "", msg("x", `01`), ReasonNotJSON, ""},
		{"bad literal in unknown", "", msg("x", `nul`), ReasonNotJSON, ""},
		{"mismatched brackets in unknown", "", msg("x", `[1}`), ReasonNotJSON, ""},
		{"syntax error beats wrong type", "", msg("app", `1`) + "x", ReasonNotJSON, ""},

		{"too large", "", msg("x", long(MaxMessageBytes)), ReasonTooLarge, ""},

		{"missing project_id", "", msg("project_id", "-"), ReasonMissingField, "project_id"},
		{"missing publish_domain", "", msg("publish_domain", "-"), ReasonMissingField, "publish_domain"},
		{"missing app", "", msg("app", "-"), ReasonMissingField, "app"},
		{"missing stream", "", msg("stream", "-"), ReasonMissingField, "stream"},
		{"missing event_type", "", msg("event_type", "-"), ReasonMissingField, "event_type"},
		{"missing event_time", "", msg("event_time", "-"), ReasonMissingField, "event_time"},
		{"empty object", "", `{}`, ReasonMissingField, "project_id"},
		{"field names are case-sensitive", "", msg("app", "-", "APP", `"live"`), ReasonMissingField, "app"},

		{"empty project_id", "", msg("project_id", `""`), ReasonEmptyField, "project_id"},
		{"empty publish_domain", "", msg("publish_domain", `""`), ReasonEmptyField, "publish_domain"},
		{"empty app", "", msg("app", `""`), ReasonEmptyField, "app"},
		{"empty stream", "", msg("stream", `""`), ReasonEmptyField, "stream"},
		{"empty event_type", "", msg("event_type", `""`), ReasonEmptyField, "event_type"},
		{"empty event_time", "", msg("event_time", `""`), ReasonEmptyField, "event_time"},
		{"empty record_format is fine", "", msg("record_format", `""`), ReasonNone, ""},

		{"project_id 64 ok", "", msg("project_id", long(64)), ReasonNone, ""},
		{"project_id 65", "", msg("project_id", long(65)), ReasonFieldTooLong, "project_id"},
		{"publish_domain 255 ok", "", msg("publish_domain", long(255)), ReasonNone, ""},
		{"publish_domain 256", "", msg("publish_domain", long(256)), ReasonFieldTooLong, "publish_domain"},
		{"app 256", "", msg("app", long(256)), ReasonFieldTooLong, "app"},
		{"stream 256", "", msg("stream", long(256)), ReasonFieldTooLong, "stream"},
		{"record_format 16 ok", "", msg("record_format", long(16)), ReasonNone, ""},
		{"record_format 17", "", msg("record_format", long(17)), ReasonFieldTooLong, "record_format"},
		{"length counts unescaped bytes", "", msg("record_format", `"`+strings.Repeat(`\u0041`, 16)+`"`), ReasonNone, ""},
		{"length counts utf-8 bytes", "", msg("record_format", `"`+strings.Repeat("é", 9)+`"`), ReasonFieldTooLong, "record_format"},

		{"number field", "", msg("app", `42`), ReasonWrongType, "app"},
		{"null field", "", msg("stream", `null`), ReasonWrongType, "stream"},
		{"bool field", "", msg("event_type", `true`), ReasonWrongType, "event_type"},
		{"object field", "", msg("event_time", `{"a":1}`), ReasonWrongType, "event_time"},
		{"array field", "", msg("record_format", `["HLS"]`), ReasonWrongType, "record_format"},
		{"event_id number", "", msg("event_id", `7`), ReasonWrongType, "event_id"},
		{"wrong type even when a later duplicate is a string", "", dup(msg("app", `1`), `"app":"ok"`), ReasonWrongType, "app"},

		{"project_id with space", "", msg("project_id", `"p 1"`), ReasonInvalidProjectID, "project_id"},
		{"project_id with dot", "", msg("project_id", `"p.1"`), ReasonInvalidProjectID, "project_id"},
		{"project_id non-ascii", "", msg("project_id", `"pé"`), ReasonInvalidProjectID, "project_id"},

		{"unknown event_type", "", msg("event_type", `"RECORD_PAUSE"`), ReasonUnknownEventType, "event_type"},
		{"event_type lower case", "", msg("event_type", `"record_start"`), ReasonUnknownEventType, "event_type"},

		{"month 13", "", msg("event_time", `"2026-13-01T00:00:00Z"`), ReasonInvalidTime, "event_time"},
		{"feb 29 non-leap", "", msg("event_time", `"2026-02-29T00:00:00Z"`), ReasonInvalidTime, "event_time"},
		{"feb 29 leap ok", "", msg("event_time", `"2028-02-29T00:00:00Z"`), ReasonNone, ""},
		{"leap second", "", msg("event_time", `"2026-12-31T23:59:60Z"`), ReasonInvalidTime, "event_time"},
		{"no zone", "", msg("event_time", `"2026-11-25T07:20:40"`), ReasonInvalidTime, "event_time"},
		{"unix seconds string", "", msg("event_time", `"1764055240"`), ReasonInvalidTime, "event_time"},
		{"space separator", "", msg("event_time", `"2026-11-25 07:20:40Z"`), ReasonInvalidTime, "event_time"},
		{"10 fraction digits", "", msg("event_time", `"2026-11-25T07:20:40.1234567891Z"`), ReasonInvalidTime, "event_time"},
		{"lower case t and z ok", "", msg("event_time", `"2026-11-25t07:20:40z"`), ReasonNone, ""},
		{"offset ok", "", msg("event_time", `"2026-11-25T15:20:40+08:00"`), ReasonNone, ""},

		{"key mismatch", "p2", msg(), ReasonKeyMismatch, "project_id"},
		{"empty non-nil key", "\x00", msg(), ReasonKeyMismatch, "project_id"},
		{"key differs in case", "P1", msg(), ReasonKeyMismatch, "project_id"},

		{"duplicate: last wins", "p2", dup(msg(), `"project_id":"p2"`), ReasonNone, ""},
		{"duplicate: earlier value is gone", "p1", dup(msg(), `"project_id":"p2"`), ReasonKeyMismatch, "project_id"},
		{"duplicate: last empty wins", "", dup(msg(), `"app":""`), ReasonEmptyField, "app"},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var key []byte
			switch tc.key {
			case "":
			case "\x00":
				key = []byte{}
			default:
				key = []byte(tc.key)
			}
			var ev Event
			err := d.Decode(key, []byte(tc.value), &ev)
			require.Equal(t, tc.want, reasonOf(t, err), "error: %v", err)
			if err != nil {
				require.Equal(t, tc.field, err.(*Error).Field)
				require.True(t, strings.HasPrefix(err.Error(), "event: "+tc.want.String()+": "), err.Error())
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	var d Decoder
	var ev Event
	require.NoError(t, d.Decode([]byte("proj_7f3a9c"), []byte(validMsg), &ev))
	require.Equal(t, "proj_7f3a9c", string(ev.ProjectID))
	require.Equal(t, "push.live.example.com", string(ev.PublishDomain))
	require.Equal(t, "live", string(ev.App))
	require.Equal(t, "room-1024-hd", string(ev.Stream))
	require.Equal(t, "HLS", string(ev.RecordFormat))
	require.Equal(t, "evt-5f8e2b1c-3d4a-4e6f", string(ev.EventID))
	require.Equal(t, RecordStart, ev.Type)
	require.Equal(t, int64(1795591240123000000), ev.Time)

	// Optional fields absent or empty decode to nil.
	require.NoError(t, d.Decode(nil, []byte(msg("record_format", `""`, "event_id", `""`)), &ev))
	require.Nil(t, ev.RecordFormat)
	require.Nil(t, ev.EventID)
	require.Equal(t, RecordOver, ev.Type)

	// An offset is applied.
	require.NoError(t, d.Decode(nil, []byte(msg("event_time", `"2026-11-25T15:20:40.5+08:00"`)), &ev))
	require.Equal(t, int64(1795591240500000000), ev.Time)

	// A duplicate field takes its last value.
	v := `{"app":"first","project_id":"p","publish_domain":"d","stream":"s","event_type":"RECORD_FAILED",` +
		`"event_time":"2026-11-25T07:20:40Z","app":"last"}`
	require.NoError(t, d.Decode(nil, []byte(v), &ev))
	require.Equal(t, "last", string(ev.App))
	require.Equal(t, RecordFailed, ev.Type)
}

func TestDecodeEscapes(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`"a\nb"`, "a\nb"},
		{`"q\"q"`, `q"q`},
		{`"b\\s"`, `b\s`},
		{`"s\/s"`, "s/s"},
		{`"\b\f\r\t"`, "\b\f\r\t"},
		{`"\u0041\u00e9\u4e2d"`, "Aé中"},
		{`"\uD83D\uDE00"`, "😀"},
		{`"\ud83d\ude00x"`, "😀x"},
		{`"\ud83d"`, "\uFFFD"},        // lone high surrogate, as encoding/json
		{`"\ude00"`, "\uFFFD"},        // lone low surrogate
		{`"\ud83d\u0041"`, "\uFFFDA"}, // high surrogate then a non-surrogate
		{`"\ude00\ud83d"`, "\uFFFD\uFFFD"},
		{`"\u0000"`, "\x00"},
		{`"中文 stream"`, "中文 stream"},
	}
	var d Decoder
	for _, tc := range tests {
		var ev Event
		require.NoError(t, d.Decode(nil, []byte(msg("stream", tc.raw)), &ev), tc.raw)
		require.Equal(t, tc.want, string(ev.Stream), tc.raw)
	}

	// Escapes in field names are decoded too, and several escaped fields coexist in scratch.
	v := `{"project\u005fid":"p\u0031","publish_domain":"d\u002ecom","\u0061pp":"\u0061","stream":"s\n",` +
		`"event_type":"RECORD\u005FOVER","event_time":"2026-11-25T07:20:4\u0030Z"}`
	var ev Event
	require.NoError(t, d.Decode([]byte("p1"), []byte(v), &ev))
	require.Equal(t, "p1", string(ev.ProjectID))
	require.Equal(t, "d.com", string(ev.PublishDomain))
	require.Equal(t, "a", string(ev.App))
	require.Equal(t, "s\n", string(ev.Stream))
	require.Equal(t, RecordOver, ev.Type)
	require.Equal(t, int64(1795591240000000000), ev.Time)
}

func TestDecodeSkipsUnknownFields(t *testing.T) {
	unknown := []string{
		`null`, `true`, `false`, `0`, `-1.5e+10`, `1E-2`, `"str"`, `"\"}]"`, `[]`, `{}`,
		`[1,"a",null,{"x":[{}]},[[[]]]]`,
		`{"project_id":"nested","a":{"b":{"c":[1,2,{"d":"}"}]}}}`,
		` [ 1 , { "k" : [ ] } ] `,
		strings.Repeat("[", 500) + strings.Repeat("]", 500),
	}
	var d Decoder
	for _, u := range unknown {
		var ev Event
		v := msg("extra", u, "more", u)
		require.NoError(t, d.Decode([]byte("p1"), []byte(v), &ev), v)
		require.Equal(t, "p1", string(ev.ProjectID))
	}
	// encoding/json's nesting limit: 10000 levels in all, the message object included.
	deep := func(n int) []byte {
		return []byte(`{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	var ev Event
	require.Equal(t, ReasonMissingField, reasonOf(t, d.Decode(nil, deep(9999), &ev)))
	require.Equal(t, ReasonNotJSON, reasonOf(t, d.Decode(nil, deep(10000), &ev)))
}

func TestDecodeSizeLimit(t *testing.T) {
	sized := func(n int) []byte {
		base := msg("pad", `""`)
		pad := strings.Repeat("x", n-len(base))
		return []byte(msg("pad", `"`+pad+`"`))
	}
	var d Decoder
	var ev Event
	exact := sized(MaxMessageBytes)
	require.Len(t, exact, 64*1024)
	require.NoError(t, d.Decode(nil, exact, &ev))
	over := sized(MaxMessageBytes + 1)
	err := d.Decode(nil, over, &ev)
	require.Equal(t, ReasonTooLarge, reasonOf(t, err))
	require.Contains(t, err.Error(), "65537 bytes")
}

func TestDecodeResetsEvent(t *testing.T) {
	var d Decoder
	ev := Event{App: []byte("stale"), Type: RecordOver, Time: 5}
	require.Error(t, d.Decode(nil, []byte(`{}`), &ev))
	require.Equal(t, Event{}, ev)
}

func TestRoundTrip(t *testing.T) {
	events := []Event{
		{ProjectID: []byte("p"), PublishDomain: []byte("d"), App: []byte("a"), Stream: []byte("s"),
			Type: RecordStart, Time: 0},
		{ProjectID: []byte("proj-1_X"), PublishDomain: []byte("push.example.com"), App: []byte("live"),
			Stream:       []byte("quote\" back\\ slash/ nl\n tab\t ctl\x01\x1f del\x7f 中 😀 \u2028\u2029 <&>"),
			RecordFormat: []byte("HLS"), EventID: []byte("id\"1"), Type: RecordFileComplete,
			Time: 1795591240123456789},
		{ProjectID: []byte("p"), PublishDomain: []byte("d"), App: []byte("a"), Stream: []byte("s"),
			Type: RecordFailed, Time: -1},
		{ProjectID: []byte("p"), PublishDomain: []byte("d"), App: []byte("a"), Stream: []byte("s"),
			Type: RecordOver, Time: 1<<63 - 1},
		{ProjectID: []byte("p"), PublishDomain: []byte("d"), App: []byte("a"), Stream: []byte("s"),
			Type: RecordNewFileStart, Time: -1 << 63},
	}
	var d Decoder
	for _, want := range events {
		b := AppendJSON(nil, &want)
		var got Event
		require.NoError(t, d.Decode(want.ProjectID, b, &got), string(b))
		require.Equal(t, want, got, string(b))
	}
	b := AppendJSON([]byte("prefix:"), &events[0])
	require.Equal(t, `prefix:{"project_id":"p","publish_domain":"d","app":"a","stream":"s",`+
		`"event_type":"RECORD_START","event_time":"1970-01-01T00:00:00Z"}`, string(b))

	var ev Event
	require.NoError(t, d.Decode(nil, []byte(validMsg), &ev))
	require.JSONEq(t, validMsg, string(AppendJSON(nil, &ev)))

	// Invalid UTF-8 is written as U+FFFD, so the output is still valid JSON.
	bad := events[0]
	bad.App = []byte("a\xffb")
	require.NoError(t, d.Decode(nil, AppendJSON(nil, &bad), &ev))
	require.Equal(t, "a\uFFFDb", string(ev.App))
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	msgs := [][]byte{
		[]byte(validMsg),
		[]byte(msg("stream", `"esc\u00e9\n\"x\""`, "x", `{"a":[1,2,{"b":null}],"c":"\ud83d\ude00"}`)),
		[]byte(msg("project_id", `"p\u0031"`, "event_time", `"2026-11-25T15:20:40.123456789+08:00"`)),
	}
	keys := [][]byte{[]byte("proj_7f3a9c"), []byte("p1"), []byte("p1")}
	var d Decoder
	var ev Event
	for i, m := range msgs {
		require.NoError(t, d.Decode(keys[i], m, &ev)) // warm up the scratch buffer
	}
	allocs := testing.AllocsPerRun(200, func() {
		for i, m := range msgs {
			if err := d.Decode(keys[i], m, &ev); err != nil {
				panic(err)
			}
		}
	})
	require.Zero(t, allocs)

	dst := make([]byte, 0, 512)
	allocs = testing.AllocsPerRun(200, func() { dst = AppendJSON(dst[:0], &ev) })
	require.Zero(t, allocs)
}

func TestTypes(t *testing.T) {
	for _, typ := range []Type{RecordStart, RecordNewFileStart, RecordOver, RecordFailed, RecordFileComplete} {
		require.Equal(t, typ, ParseType([]byte(typ.String())))
	}
	require.Equal(t, "RECORD_NEW_FILE_START", RecordNewFileStart.String())
	require.Equal(t, "UNKNOWN", TypeUnknown.String())
	require.Equal(t, "UNKNOWN", Type(200).String())
	require.Equal(t, TypeUnknown, ParseType([]byte("UNKNOWN")))
	require.Equal(t, TypeUnknown, ParseType(nil))
	require.True(t, RecordStart.Opens() && RecordNewFileStart.Opens())
	require.True(t, RecordOver.Closes() && RecordFailed.Closes())
	for _, typ := range []Type{TypeUnknown, RecordOver, RecordFailed, RecordFileComplete} {
		require.False(t, typ.Opens(), typ.String())
	}
	for _, typ := range []Type{TypeUnknown, RecordStart, RecordNewFileStart, RecordFileComplete} {
		require.False(t, typ.Closes(), typ.String())
	}
}

func TestReasons(t *testing.T) {
	want := map[Reason]string{
		ReasonNotJSON: "not_json", ReasonTooLarge: "message_too_large", ReasonMissingField: "missing_field",
		ReasonEmptyField: "empty_field", ReasonFieldTooLong: "field_too_long", ReasonWrongType: "wrong_field_type",
		ReasonInvalidProjectID: "invalid_project_id", ReasonUnknownEventType: "unknown_event_type",
		ReasonInvalidTime: "invalid_event_time", ReasonKeyMismatch: "key_mismatch", ReasonTooLate: "too_late",
		ReasonTooOld: "too_old", ReasonFuture: "future_time", ReasonInternal: "internal_error",
	}
	all := AllReasons()
	require.Len(t, all, len(want))
	for _, r := range all {
		require.Equal(t, want[r], r.String())
	}
	require.Equal(t, "none", ReasonNone.String())
	require.Equal(t, "unknown", Reason(250).String())

	e := &Error{Reason: ReasonInvalidTime, Field: "event_time", Msg: "x"}
	require.Equal(t, "event: invalid_event_time: x", e.Error())

	var d Decoder
	var ev Event
	err := d.Decode(nil, []byte(msg("event_time", `"2026-13-01T00:00:00Z"`)), &ev)
	require.EqualError(t, err,
		`event: invalid_event_time: event_time "2026-13-01T00:00:00Z" is not RFC 3339 (want e.g. 2026-11-25T07:20:40Z)`)
	err = d.Decode(nil, []byte(msg("event_time", `"`+strings.Repeat("9", 100)+`"`)), &ev)
	require.Contains(t, err.Error(), "… (100 bytes)")
}
