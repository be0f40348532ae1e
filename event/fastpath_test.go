package event

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// This file tests the fast paths at their edges: usualMembers, which takes the members in the
// usual order and form and leaves the rest to the general loop, the word-at-a-time string scan,
// and the word-at-a-time shape test of event_time. checkDecode compares each message with the
// reference decoder and with Decode's general path.

func TestUsualMembers(t *testing.T) {
	const all = 1<<numFields - 1
	const required = all &^ (1<<fRecordFormat | 1<<fEventID)
	pretty := "{\n  \"project_id\": \"p1\",\n  \"publish_domain\":\t\"push.example.com\" ,\r\n  \"app\": \"live\",\n" +
		"  \"stream\": \"s1\",\n  \"event_type\": \"RECORD_OVER\",\n  \"event_time\": \"2026-11-25T07:20:40Z\"\n}"
	tests := []struct {
		name  string
		value string
		seen  uint   // the fields taken
		done  bool   // whether the closing '}' was reached
		next  string // when not done, the message from where the general loop goes on
	}{
		{"every field", validMsg, all, true, ""},
		{"optional fields absent", msg(), required, true, ""},
		{"empty optional fields", `{"project_id":"p1","publish_domain":"d","app":"a","stream":"s","record_format":"",` +
			`"event_type":"RECORD_OVER","event_time":"2026-11-25T07:20:40Z","event_id":""}`, all, true, ""},
		{"whitespace between tokens", pretty, required, true, ""},
		{"record_format last", msg("record_format", `"HLS"`), required, false, `"record_format":"HLS"`},
		{"event_id before event_type", `{"project_id":"p1","publish_domain":"d","app":"a","stream":"s","event_id":"e",` +
			`"event_type":"RECORD_OVER","event_time":"2026-11-25T07:20:40Z"}`,
			1<<fProjectID | 1<<fPublishDomain | 1<<fApp | 1<<fStream, false, `"event_id":"e"`},
		{"unknown field first", `{"x":"1",` + msg()[1:], 0, false, `"x":"1"`},
		{"unknown field last", msg("x", `"1"`), required, false, `"x":"1"`},
		{"duplicate at the end", dup(msg(), `"app":"b"`), required, false, `"app":"b"`},
		{"escape in a value", msg("stream", `"s\n1"`), 1<<fProjectID | 1<<fPublishDomain | 1<<fApp, false, `"stream":"s\n1"`},
		{"escape in a name", msg("app", "-", `"\u0061pp"`, `"live"`), 1<<fProjectID | 1<<fPublishDomain, false, `"stream"`},
		{"non-ASCII byte", msg("app", `"lé"`), 1<<fProjectID | 1<<fPublishDomain, false, `"app":"lé"`},
		{"control byte", msg("app", "\"l\x01\""), 1<<fProjectID | 1<<fPublishDomain, false, "\"app\":\"l\x01\""},
		{"DEL is plain", msg("app", "\"l\x7f\""), required, true, ""},
		{"value not a string", msg("app", `7`), 1<<fProjectID | 1<<fPublishDomain, false, `"app":7`},
		{"space before the colon", `{"project_id" :"p1"}`, 0, false, `"project_id" :`},
		{"name case differs", `{"Project_id":"p1"}`, 0, false, `"Project_id"`},
		{"name prefix only", `{"project_idx":"p1"}`, 0, false, `"project_idx"`},
		{"missing comma", `{"project_id":"p1" "app":"a"}`, 0, false, `"project_id"`},
		{"trailing comma", `{"project_id":"p1",}`, 1 << fProjectID, false, `}`},
		{"truncated in a value", `{"project_id":"p1`, 0, false, `"project_id"`},
		{"truncated after a value", `{"project_id":"p1"`, 0, false, `"project_id"`},
		{"truncated in a name", `{"publish_do`, 0, false, `"publish_do`},
		{"value ends on a word boundary", msg("project_id", `"p1234567"`, "app", `"0123456789abcdef"`), required, true, ""},
		{"value of 17 bytes", msg("app", `"0123456789abcdefg"`), required, true, ""},
		{"long value", msg("stream", `"`+strings.Repeat("s", 200)+`"`), required, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var vals [numFields][]byte
			var seen uint
			next, _, done := usualMembers([]byte(tc.value), 1, 0, &vals, &seen)
			require.Equal(t, tc.seen, seen, "fields taken")
			require.Equal(t, tc.done, done)
			if done {
				require.Equal(t, len(strings.TrimRight(tc.value, " \n")), next)
			} else {
				require.True(t, strings.HasPrefix(strings.TrimLeft(tc.value[next:], " \t\r\n"), tc.next),
					"next member %q", tc.value[next:])
			}
			var d Decoder
			checkDecode(t, &d, nil, []byte(tc.value))
		})
	}
}

// TestDecodeStringScanEdges puts each kind of byte that ends a run of plain bytes (and a few that
// do not) at every offset of a value, with the value starting at every offset within a word,
// so that the word-at-a-time scan meets it in every lane of the first, second and third word
// and in the byte-at-a-time tail, in the fast path and in the general one.
func TestDecodeStringScanEdges(t *testing.T) {
	specials := []string{"\x00", "\x01", "\x1f", " ", "\x7f", `"`, `\`, `\n`, `\"`, `\\`, `\u00e9`, `\ud83d\ude00`,
		"é", "中", "\x80", "\xc3", "\xff", "\xed\xa0\x80"}
	var d Decoder
	for shift := range 8 {
		pad := `"` + strings.Repeat("a", 1+shift) + `"`          // moves the stream value within its word
		for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 20} { // lengths around one and two words
			for pos := range n {
				for _, sp := range specials {
					v := strings.Repeat("x", pos) + sp + strings.Repeat("y", n-pos-1)
					checkDecode(t, &d, []byte("p1"), []byte(msg("app", pad, "stream", `"`+v+`"`)))
					// The same value last, where the message ends before a word is full.
					checkDecode(t, &d, []byte("p1"), []byte(msg("app", pad, "event_id", `"`+v+`"`)))
				}
			}
		}
	}
}

// TestParseTimeEveryByte changes each byte of a few valid times to every other byte value, so
// that each lane of the words that dateTimeShape tests sees every byte, and compares parseTime
// with the reference.
func TestParseTimeEveryByte(t *testing.T) {
	for _, base := range []string{"2026-11-25T07:20:40Z", "2028-02-29t23:59:59.123456789+08:00", "1999-12-31T00:00:00.5-23:59"} {
		for pos := range len(base) {
			for c := range 256 {
				s := []byte(base)
				s[pos] = byte(c)
				got, ok := parseTime(s)
				want, wantOK := refParseTime(string(s))
				require.Equal(t, wantOK, ok, "%q", s)
				require.Equal(t, want, got, "%q", s)
			}
		}
	}
}

func TestParseTimeCalendarEdges(t *testing.T) {
	var days []string
	for _, year := range []string{"1700", "1900", "1970", "2000", "2024", "2026", "2100", "2262"} {
		for _, md := range []string{"01-01", "01-31", "01-32", "02-28", "02-29", "02-30", "03-01", "04-30", "04-31",
			"06-30", "06-31", "09-31", "11-31", "12-31", "12-32", "00-01", "13-01", "01-00"} {
			days = append(days, year+"-"+md)
		}
	}
	for _, day := range days {
		for _, clock := range []string{"T00:00:00Z", "T23:59:59Z", "T23:59:59.999999999Z", "T12:00:00.1+14:00",
			"T00:00:00-00:01", "T24:00:00Z", "T23:60:00Z", "T23:59:60Z", "T00:00:00.Z", "T00:00:00.0123456789Z",
			"T00:00:00+23:59", "T00:00:00+24:00", "T00:00:00+01:60", "T00:00:00+0100", "T00:00:00", "T00:00:00ZZ"} {
			s := day + clock
			got, ok := parseTime([]byte(s))
			want, wantOK := refParseTime(s)
			require.Equal(t, wantOK, ok, s)
			require.Equal(t, want, got, s)
		}
	}
}
