package results

import (
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

// FuzzDecode checks that Decode never panics on the topic's bytes and that what it accepts
// encodes back to a record that decodes the same.
func FuzzDecode(f *testing.F) {
	k, v := Encode(Record{ProjectID: "p", Domain: "d", Hour: 3600 * 490000, Peak: Peak{Count: 4, Minute: 9}, Final: true})
	f.Add(k, v)
	f.Add(k, []byte(nil))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		r, err := Decode(k, v)
		if err != nil {
			return
		}
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
				got := AppendLowerDomain([]byte("pre"), d)
				if want := append([]byte("pre"), lower(d)...); string(got) != string(want) {
					t.Fatalf("AppendLowerDomain(%q) = %q, want %q", d, got[3:], want[3:])
				}
			}
		}
	}
}
