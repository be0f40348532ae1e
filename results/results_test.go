package results

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	hour := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC).Unix()
	for _, r := range []Record{
		{ProjectID: "p1", Domain: "", Hour: hour, Peak: Peak{Count: 3, Minute: 7}, Final: true},
		{ProjectID: "p1", Domain: "push.example.com", Hour: hour},
		{ProjectID: "p1", Domain: "push.example.com", Hour: hour, Tombstone: true},
	} {
		k, v := Encode(r)
		got, err := Decode(k, v)
		require.NoError(t, err)
		require.Equal(t, r, got)
		k2, v2 := Encode(r)
		require.Equal(t, k, k2, "same hour, same key bytes: compaction keeps one")
		require.Equal(t, v, v2)
	}
	k, v := Encode(Record{ProjectID: "p", Hour: hour, Peak: Peak{Count: 2, Minute: 59}})
	require.JSONEq(t, `{"project_id":"p","domain":"*","hour":"2026-11-25T08:00:00Z"}`, string(k))
	require.JSONEq(t, `{"concurrent_count":2,"time":"2026-11-25T08:59:00Z","final":false}`, string(v))
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range [][2]string{
		{`nope`, `{}`},
		{`{"project_id":"p","domain":"*","hour":"2026-11-25T08:30:00Z"}`, `{"concurrent_count":1,"time":"2026-11-25T08:30:00Z"}`},
		{`{"project_id":"p","domain":"*","hour":"2026-11-25T08:00:00Z"}`, `{"concurrent_count":1,"time":"2026-11-25T09:00:00Z"}`},
		{`{"project_id":"p","domain":"*","hour":"2026-11-25T08:00:00Z"}`, `{"concurrent_count":1,"time":"2026-11-25T08:10:30Z"}`},
		{`{"project_id":"","domain":"*","hour":"2026-11-25T08:00:00Z"}`, `{"concurrent_count":1,"time":"2026-11-25T08:00:00Z"}`},
		{`{"project_id":"p","domain":"*","hour":"2026-11-25T08:00:00Z"}`, `[]`},
	} {
		_, err := Decode([]byte(c[0]), []byte(c[1]))
		require.ErrorIs(t, err, ErrBadRecord, c[0])
	}
}

func TestPeak(t *testing.T) {
	require.Equal(t, uint64(0), Peak{}.Pack(), "no data packs like a zero hour")
	require.Equal(t, uint64(0), Peak{Count: 0, Minute: 17}.Pack(), "a zero hour is at hh:00")
	for _, p := range []Peak{{1, 0}, {7, 59}, {1 << 31, 30}, {^uint32(0), 59}} {
		require.Equal(t, p, UnpackPeak(p.Pack()))
	}
	hour := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	require.Equal(t, hour, Peak{Minute: 12}.At(hour))
	require.Equal(t, hour.Add(12*time.Minute), Peak{Count: 1, Minute: 12}.At(hour))
	require.True(t, Peak{2, 30}.Better(Peak{1, 0}))
	require.True(t, Peak{2, 10}.Better(Peak{2, 30}))
	require.False(t, Peak{2, 30}.Better(Peak{2, 30}))
}

func TestLowerDomain(t *testing.T) {
	require.Equal(t, "push.example.com", LowerDomain("Push.Example.COM"))
	require.Equal(t, "push.example.com", LowerDomain("push.example.com"))
	require.Equal(t, "ünï.example", LowerDomain("ünï.EXAMPLE"), "only ASCII letters fold (RFC 4343)")
	require.Equal(t, []byte("a-b.c"), AppendLowerDomain(nil, []byte("A-B.C")))
	require.True(t, HasUpper([]byte("a.B")))
	require.False(t, HasUpper([]byte("a.b")))
}

// FuzzDecode checks that Decode never panics on the topic's bytes, that it decodes them as
// encoding/json does (decodeJSON), and that what it accepts encodes back to a record that
// decodes the same.
func FuzzDecode(f *testing.F) {
	k, v := Encode(Record{ProjectID: "p", Domain: "d", Hour: 3600 * 490000, Peak: Peak{Count: 4, Minute: 9}, Final: true})
	f.Add(k, v)
	f.Add(k, []byte(nil))
	f.Add([]byte(`{"project_id":"p","domain":"*","hour":"0000-02-29T00:00:00Z"}`), []byte(`{"concurrent_count":01,"time":"0000-02-29T00:59:00Z","final":true}`))
	f.Add([]byte(`{"project_id":"p","domain":"*","hour":"2024-02-29T23:00:00Z"}`), []byte(`{"concurrent_count":4294967296,"time":"2024-02-29T23:59:00Z","final":false}`))
	f.Add([]byte(`{"project_id":"p","domain":"a<b","hour":"2100-02-29T00:00:00Z"}`), []byte(`{"concurrent_count":0,"time":"2100-02-28T00:00:00Z","final":false} `))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		r, err := Decode(k, v)
		want, wantErr := decodeJSON(k, v)
		require.Equal(t, wantErr == nil, err == nil, "Decode error %v, encoding/json's %v", err, wantErr)
		if err != nil {
			return
		}
		require.Equal(t, want, r)
		k2, v2 := Encode(r)
		r2, err := Decode(k2, v2)
		require.NoError(t, err)
		require.Equal(t, r, r2)
	})
}

// TestAppendLowerDomainBytes compares AppendLowerDomain, which lowers eight bytes at a time, with
// a byte-by-byte lowering, for every byte value at every position of a word and in the tail.
func TestAppendLowerDomainBytes(t *testing.T) {
	lower := func(d []byte) []byte {
		out := make([]byte, len(d))
		for i, c := range d {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out[i] = c
		}
		return out
	}
	for n := range 20 {
		for pos := range n {
			for c := range 256 {
				const pattern = "xY.z-Q9@\x80\xffAZaz[`{@Z"
				d := make([]byte, n)
				for i := range d {
					d[i] = pattern[i%len(pattern)]
				}
				d[pos] = byte(c)
				orig := string(d)
				got := AppendLowerDomain([]byte("pre"), d)
				if want := append([]byte("pre"), lower(d)...); string(got) != string(want) || string(d) != orig {
					t.Fatalf("AppendLowerDomain(%q) = %q, want %q (and the source unchanged)", orig, got[3:], want[3:])
				}
			}
		}
	}
}

// TestEncodeMatchesJSON compares Encode with encoding/json's Marshal of the key and value shapes,
// the bytes earlier versions wrote (compaction needs the same key bytes for the same hour), and
// Decode of them with decodeJSON, for records with plain and unusual strings.
func TestEncodeMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"p", "push.example.com", "a_b-C9", "*", " ", "\"", "\\", "<", ">", "&", "\x00", "\x1f", "\x7f",
		"é", "\u2028", "\xff", "日本"}
	str := func() string {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	for range 5000 {
		rec := Record{ProjectID: str(), Domain: str(), Hour: (r.Int64N(400_000) - 100_000) * 3600,
			Peak: Peak{Count: r.Uint32(), Minute: uint8(r.IntN(60))}, Final: r.IntN(2) == 0, Tombstone: r.IntN(5) == 0}
		if r.IntN(3) == 0 {
			rec.Domain = ""
		}
		if r.IntN(4) == 0 {
			rec.Peak = Peak{}
		}
		k, v := Encode(rec)
		d := rec.Domain
		if d == "" {
			d = AllDomains
		}
		hour := rec.HourTime()
		wantK, _ := json.Marshal(key{ProjectID: rec.ProjectID, Domain: d, Hour: hour.Format(layout)})
		require.Equal(t, string(wantK), string(k))
		if rec.Tombstone {
			require.Nil(t, v)
		} else {
			wantV, _ := json.Marshal(value{Count: rec.Peak.Count, Minute: rec.Peak.At(hour).Format(layout), Final: rec.Final})
			require.Equal(t, string(wantV), string(v))
		}
		got, err := Decode(k, v)
		want, wantErr := decodeJSON(k, v)
		require.Equal(t, wantErr, err)
		require.Equal(t, want, got)
	}
}

// BenchmarkDecode reads a typical result record, as the query service reads the topic.
func BenchmarkDecode(b *testing.B) {
	k, v := Encode(Record{ProjectID: "project-042", Domain: "push0.tenant42.example.com", Hour: 3600 * 493000,
		Peak: Peak{Count: 17, Minute: 23}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(k, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode writes a typical result record, as ingest publishes one per changed hour.
func BenchmarkEncode(b *testing.B) {
	r := Record{ProjectID: "project-042", Domain: "push0.tenant42.example.com", Hour: 3600 * 493000,
		Peak: Peak{Count: 17, Minute: 23}}
	b.ReportAllocs()
	for b.Loop() {
		Encode(r)
	}
}

// TestDecodeFastEdges compares Decode with decodeJSON where the reader without reflection must
// hand over or agree: calendar edges, the largest count, and spellings encoding/json accepts.
func TestDecodeFastEdges(t *testing.T) {
	key := func(hour string) string { return `{"project_id":"p","domain":"*","hour":"` + hour + `"}` }
	val := func(count, minute, final string) string {
		return `{"concurrent_count":` + count + `,"time":"` + minute + `","final":` + final + `}`
	}
	for _, c := range [][2]string{
		{key("0000-02-29T00:00:00Z"), val("1", "0000-02-29T00:59:00Z", "true")},
		{key("9999-12-31T23:00:00Z"), val("4294967295", "9999-12-31T23:59:00Z", "false")},
		{key("2000-02-29T05:00:00Z"), val("0", "2000-02-29T05:00:00Z", "false")},
		{key("2100-02-29T05:00:00Z"), val("1", "2100-02-29T05:00:00Z", "false")},
		{key("2026-11-31T05:00:00Z"), val("1", "2026-11-31T05:00:00Z", "false")},
		{key("2026-11-25T24:00:00Z"), val("1", "2026-11-25T24:00:00Z", "false")},
		{key("2026-11-25T05:00:60Z"), val("1", "2026-11-25T05:00:00Z", "false")},
		{key("2026-11-25T05:00:00Z"), val("4294967296", "2026-11-25T05:00:00Z", "false")},
		{key("2026-11-25T05:00:00Z"), val("007", "2026-11-25T05:00:00Z", "false")},
		{key("2026-11-25T05:00:00Z"), val("7", "2026-11-25T05:00:00Z", "null")},
		{key("2026-11-25T05:00:00Z"), `{"time":"2026-11-25T05:07:00Z", "concurrent_count":7,"FINAL":true}`},
		{`{"Project_ID":"p","domain":"d","hour":"2026-11-25T05:00:00Z"}`, val("1", "2026-11-25T05:00:00Z", "true")},
		{`{"project_id":"p\u0041","domain":"d","hour":"2026-11-25T05:00:00Z"}`, val("1", "2026-11-25T05:00:00Z", "true")},
		{key("2026-11-25T05:00:00Z") + " ", val("1", "2026-11-25T05:00:00Z", "true")},
	} {
		got, err := Decode([]byte(c[0]), []byte(c[1]))
		want, wantErr := decodeJSON([]byte(c[0]), []byte(c[1]))
		require.Equal(t, wantErr, err, "%s %s", c[0], c[1])
		require.Equal(t, want, got, "%s %s", c[0], c[1])
	}
}

func TestSource(t *testing.T) {
	v := SourceValue("record-events", 11)
	require.Equal(t, "record-events/11", string(v))
	topic, p, ok := ParseSource(v)
	require.True(t, ok)
	require.Equal(t, "record-events", string(topic))
	require.Equal(t, 11, p)
	for _, bad := range []string{"", "/", "/3", "events", "events/", "events/x", "events/-1", "events/3 "} {
		_, _, ok := ParseSource([]byte(bad))
		require.False(t, ok, "%q", bad)
	}
}

// FuzzParseSource: any header value is read without a panic, and what is read writes back to a
// value that reads the same.
func FuzzParseSource(f *testing.F) {
	f.Add([]byte("record-events/3"))
	f.Add([]byte("a/b/7"))
	f.Add([]byte("/"))
	f.Fuzz(func(t *testing.T, v []byte) {
		topic, p, ok := ParseSource(v)
		if !ok {
			return
		}
		require.NotEmpty(t, topic)
		require.GreaterOrEqual(t, p, 0)
		topic2, p2, ok := ParseSource(SourceValue(string(topic), p))
		require.True(t, ok)
		require.Equal(t, topic, topic2)
		require.Equal(t, p, p2)
	})
}
