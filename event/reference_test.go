package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// This file holds a reference decoder written independently of the package's code, on
// encoding/json, time.Parse and a regular expression, and a differential test that compares it
// with Decoder on random messages.

// refRFC3339 is the shape of event_time that the rules accept.
var refRFC3339 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$`)

var refProjectID = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

var refTypes = map[string]Type{"RECORD_START": RecordStart, "RECORD_NEW_FILE_START": RecordNewFileStart,
	"RECORD_OVER": RecordOver, "RECORD_FAILED": RecordFailed, "RECORD_FILE_COMPLETE": RecordFileComplete}

// refDecode decodes a message by the package rules, the slow and obvious way.
func refDecode(key, value []byte) (Event, Reason) {
	if len(value) > 64*1024 {
		return Event{}, ReasonTooLarge
	}
	if !json.Valid(value) || !utf8.Valid(value) {
		return Event{}, ReasonNotJSON
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Event{}, ReasonNotJSON
	}
	names := []string{"project_id", "publish_domain", "app", "stream", "record_format", "event_type", "event_time"}
	vals := map[string]string{}
	wrongType := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			panic(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			panic(err)
		}
		name := tok.(string)
		if name != "event_id" && !refKnown(names, name) {
			continue
		}
		if raw[0] != '"' {
			wrongType = true
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			panic(err)
		}
		vals[name] = s // the last duplicate wins
	}
	if wrongType {
		return Event{}, ReasonWrongType
	}
	limits := map[string]int{"project_id": 64, "publish_domain": 255, "app": 255, "stream": 255, "record_format": 16}
	var ev Event
	for _, name := range names {
		v, ok := vals[name]
		switch {
		case !ok && name != "record_format":
			return Event{}, ReasonMissingField
		case v == "" && name != "record_format":
			return Event{}, ReasonEmptyField
		case limits[name] > 0 && len(v) > limits[name]:
			return Event{}, ReasonFieldTooLong
		}
		switch name {
		case "project_id":
			if !refProjectID.MatchString(v) {
				return Event{}, ReasonInvalidProjectID
			}
		case "event_type":
			if ev.Type = refTypes[v]; ev.Type == TypeUnknown {
				return Event{}, ReasonUnknownEventType
			}
		case "event_time":
			var ok bool
			if ev.Time, ok = refParseTime(v); !ok {
				return Event{}, ReasonInvalidTime
			}
		}
	}
	if key != nil && string(key) != vals["project_id"] {
		return Event{}, ReasonKeyMismatch
	}
	field := func(name string) []byte {
		if vals[name] == "" {
			return nil
		}
		return []byte(vals[name])
	}
	ev.ProjectID, ev.PublishDomain, ev.App, ev.Stream = field("project_id"), field("publish_domain"), field("app"), field("stream")
	ev.RecordFormat, ev.EventID = field("record_format"), field("event_id")
	return ev, ReasonNone
}

// refParseTime parses event_time by the package rules: the regular expression for the shape,
// time.Parse for the calendar, and the documented limits.
func refParseTime(v string) (int64, bool) {
	if !refRFC3339.MatchString(v) {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(v))
	if err != nil || t.Second() == 60 || t.Year() < 1677 || t.Year() > 2262 ||
		!time.Unix(0, t.UnixNano()).Equal(t) {
		return 0, false
	}
	return t.UnixNano(), true
}

func refKnown(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// copyEvent returns ev with its byte slices copied, so that it outlives the next Decode.
func copyEvent(ev Event) Event {
	c := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		return append([]byte{}, b...)
	}
	ev.ProjectID, ev.PublishDomain, ev.App, ev.Stream = c(ev.ProjectID), c(ev.PublishDomain), c(ev.App), c(ev.Stream)
	ev.RecordFormat, ev.EventID = c(ev.RecordFormat), c(ev.EventID)
	return ev
}

// checkDecode decodes one message with d and with the reference and requires that they agree on
// the reason and, when accepted, on the Event; an accepted Event must also survive AppendJSON.
// Decode must also give exactly what it gives with its fast path turned off, error included.
func checkDecode(t *testing.T, d *Decoder, key, value []byte) {
	var ev Event
	err := d.Decode(key, value, &ev)
	got := reasonOf(t, err)

	var general Decoder
	var generalEv Event
	generalErr := general.decode(key, value, &generalEv, false)
	require.Equal(t, generalErr, err, "key %q value %q: the fast path changed the error", key, value)
	require.Equal(t, generalEv, ev, "key %q value %q: the fast path changed the event", key, value)

	wantEv, want := refDecode(key, value)
	require.Equal(t, want, got, "key %q value %q: Decode says %v", key, value, err)
	if err != nil {
		return
	}
	require.Equal(t, wantEv, ev, "value %q", value)

	kept := copyEvent(ev)
	var again Event
	var d2 Decoder
	out := AppendJSON(nil, &ev)
	require.NoError(t, d2.Decode(kept.ProjectID, out, &again), "re-encoded %q", out)
	require.Equal(t, kept, again, "re-encoded %q", out)
	require.Equal(t, kept, ev, "AppendJSON or Decode of another Decoder changed ev")
}

// gen makes random messages: mostly well-formed objects with valid and invalid field values,
// sometimes damaged.
type gen struct {
	r *rand.Rand
	// valid makes message() produce only messages that pass, for about half the calls.
	valid *bool
}

func (g gen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

func (g gen) ws() string {
	if g.r.IntN(4) > 0 {
		return ""
	}
	return g.pick(" ", "\n", "\t", "\r\n  ")
}

// jsonString encodes s as a JSON string with random escaping.
func (g gen) jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20 || g.r.IntN(12) == 0:
			if r > 0xffff {
				r1, r2 := surrogates(r)
				fmt.Fprintf(&b, `\u%04x\u%04X`, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		case r == '/' && g.r.IntN(2) == 0:
			b.WriteString(`\/`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func (g gen) text(maxLen int) string {
	alphabets := []string{"abcxyz", "AZaz09_-", "é中😀", " ./:\"\\\n\t", "\u2028\x7f"}
	var b strings.Builder
	n := g.r.IntN(maxLen + 1)
	for b.Len() < n {
		a := []rune(alphabets[g.r.IntN(len(alphabets))])
		b.WriteRune(a[g.r.IntN(len(a))])
	}
	return b.String()
}

func (g gen) timeString() string {
	if g.r.IntN(3) == 0 {
		return g.pick(timeSeeds...)
	}
	t := time.Unix(g.r.Int64N(4e9), g.r.Int64N(1e9)).UTC()
	if g.r.IntN(2) == 0 {
		t = t.In(time.FixedZone("", (g.r.IntN(48)-24)*1800))
	}
	return t.Format(g.pick(time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00"))
}

// anyValue returns a random JSON value, nested at most depth deep.
func (g gen) anyValue(depth int) string {
	switch k := g.r.IntN(8); {
	case k == 0 && depth > 0:
		var parts []string
		for range g.r.IntN(4) {
			parts = append(parts, g.ws()+g.anyValue(depth-1)+g.ws())
		}
		return "[" + strings.Join(parts, ",") + "]"
	case k == 1 && depth > 0:
		var parts []string
		for range g.r.IntN(4) {
			parts = append(parts, g.jsonString(g.pick("project_id", "a", "k", "event_type"))+":"+g.anyValue(depth-1))
		}
		return "{" + strings.Join(parts, ","+g.ws()) + "}"
	case k == 2:
		return g.pick("true", "false", "null")
	case k == 3:
		return g.pick("0", "-1", "3.25", "1e9", "-0.5E-3", "12345678901234567890")
	default:
		return g.jsonString(g.text(8))
	}
}

func (g gen) fieldValue(name string) string {
	if *g.valid {
		return g.validValue(name)
	}
	if g.r.IntN(12) == 0 {
		return g.anyValue(2) // often the wrong type
	}
	var s string
	switch name {
	case "project_id":
		s = g.pick("p1", "proj_7f3a9c", "A-b_9", strings.Repeat("x", 64), strings.Repeat("y", 65), "bad id", "", "é")
	case "event_type":
		s = g.pick("RECORD_START", "RECORD_NEW_FILE_START", "RECORD_OVER", "RECORD_FAILED",
			"RECORD_FILE_COMPLETE", "record_start", "RECORD_PAUSE", "")
	case "event_time":
		s = g.timeString()
	case "record_format":
		s = g.pick("HLS", "FLV", "MP4", "", strings.Repeat("F", 16), strings.Repeat("F", 17), g.text(20))
	case "event_id":
		s = g.text(30)
	default:
		switch g.r.IntN(10) {
		case 0:
			s = strings.Repeat("d", 250+g.r.IntN(10))
		case 1:
			s = ""
		default:
			s = g.text(20)
		}
	}
	return g.jsonString(s)
}

// validValue returns a JSON string that passes the rules for the field name.
func (g gen) validValue(name string) string {
	var s string
	switch name {
	case "project_id":
		s = g.pick("p1", "proj_7f3a9c", "A-b_9", strings.Repeat("x", 64))
	case "event_type":
		s = g.pick("RECORD_START", "RECORD_NEW_FILE_START", "RECORD_OVER", "RECORD_FAILED", "RECORD_FILE_COMPLETE")
	case "event_time":
		sec := g.r.Int64N(4e9)
		if g.r.IntN(2) == 0 {
			// Within three minutes, so that messages decoded one after the other often share
			// one, which the Decoder's minute cache then serves.
			sec = time.Date(2026, 11, 25, 7, 20, 0, 0, time.UTC).Unix() + g.r.Int64N(180)
		}
		s = time.Unix(sec, g.r.Int64N(1e9)).In(time.FixedZone("", (g.r.IntN(48)-24)*1800)).
			Format(g.pick(time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00"))
	case "record_format":
		s = g.pick("HLS", "FLV", "MP4", "", strings.Repeat("F", 16))
	case "event_id":
		s = g.text(30)
	default:
		s = g.text(20) + "x"
	}
	return g.jsonString(s)
}

func (g gen) message() (key, value []byte) {
	*g.valid = g.r.IntN(2) == 0
	names := []string{"project_id", "publish_domain", "app", "stream", "record_format", "event_type", "event_time", "event_id"}
	var parts []string
	var projectID string
	for _, name := range names {
		if !*g.valid && g.r.IntN(15) == 0 {
			continue // missing
		}
		v := g.fieldValue(name)
		if name == "project_id" {
			projectID = v
		}
		parts = append(parts, g.ws()+g.jsonString(name)+g.ws()+":"+g.ws()+v)
		if g.r.IntN(20) == 0 && (!*g.valid || name == "event_id") {
			parts = append(parts, g.jsonString(name)+":"+g.fieldValue(name)) // duplicate
		}
	}
	for range g.r.IntN(3) {
		parts = append(parts, g.jsonString(g.pick("extra", "meta", "Project_ID", "nested"))+":"+g.anyValue(3))
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	value = []byte(g.ws() + "{" + strings.Join(parts, ",") + "}" + g.ws())

	if !*g.valid && g.r.IntN(5) == 0 { // damage it
		switch g.r.IntN(5) {
		case 0:
			value = value[:g.r.IntN(len(value))]
		case 1:
			value[g.r.IntN(len(value))] = g.pick("{", "}", "[", "]", ",", ":", `"`, `\`, "\xff", "\x01", "0")[0]
		case 2:
			value = append(value, g.pick("x", "{}", " ,", "\x00")...)
		case 3:
			value = append([]byte(g.pick("[", "x", `"a"`, "1")), value...)
		case 4:
			i := g.r.IntN(len(value))
			value = append(value[:i:i], value[i+1:]...)
		}
	}
	switch g.r.IntN(4) {
	case 0:
		return nil, value
	case 1:
		if *g.valid {
			return nil, value
		}
		return []byte(g.pick("p1", "other", "")), value
	default:
		var k string
		if json.Unmarshal([]byte(projectID), &k) != nil {
			k = "p1"
		}
		return []byte(k), value
	}
}

func TestDecodeMatchesReference(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2)), new(bool)}
	var d Decoder
	n := 20000
	if testing.Short() {
		n = 2000
	}
	counts := map[Reason]int{}
	for range n {
		key, value := g.message()
		checkDecode(t, &d, key, value)
		_, r := refDecode(key, value)
		counts[r]++
	}
	// The generator reaches every decoder reason, so the comparison covers each rule.
	for _, r := range AllReasons()[:ReasonKeyMismatch] {
		if r != ReasonTooLarge {
			require.Greater(t, counts[r], 0, "no case of %v", r)
		}
	}
	require.Greater(t, counts[ReasonNone], n/3)
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(validMsg), "proj_7f3a9c", true)
	f.Add([]byte(msg()), "", false)
	f.Add([]byte(msg("stream", `"\ud83d\ude00 \u00e9 \n \"x\" \/"`, "x", `{"a":[1,-2.5e3,true,null,{}]}`)), "p1", true)
	f.Add([]byte(msg("event_time", `"2026-11-25t15:20:40.123456789+08:00"`, "record_format", `""`)), "p1", true)
	f.Add([]byte(msg("app", `"a"`, "app", `"b"`)), "p1", false)
	f.Add([]byte(msg("app", `1`)), "", false)
	f.Add([]byte(msg("event_type", `"NOPE"`)), "", false)
	f.Add([]byte(msg()+"x"), "", false)
	f.Add([]byte(`[]`), "", false)
	f.Add([]byte(`{"\u0061pp":"x"}`), "", false)
	f.Add([]byte(`{"x":[[[[{"y":"\ud800"}]]]]}`), "", false)
	g := gen{rand.New(rand.NewPCG(3, 4)), new(bool)}
	for range 20 {
		key, value := g.message()
		f.Add(value, string(key), key != nil)
	}
	f.Fuzz(func(t *testing.T, value []byte, key string, checkKey bool) {
		var k []byte
		if checkKey {
			k = []byte(key)
		}
		var d Decoder
		checkDecode(t, &d, k, value)
		checkDecode(t, &d, k, value) // with the Decoder's state (the minute cache) from the first
	})
}
