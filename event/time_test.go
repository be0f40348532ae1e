package event

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var timeSeeds = []string{
	"2026-11-25T07:20:40Z",
	"2026-11-25T07:20:40.123Z",
	"2026-11-25T07:20:40.123456789Z",
	"2026-11-25T15:20:40+08:00",
	"2026-11-25T02:20:40.5-05:00",
	"2026-11-25t07:20:40z",
	"2028-02-29T23:59:59.999999999Z",
	"2000-02-29T00:00:00Z",
	"1900-02-29T00:00:00Z",
	"2026-12-31T23:59:60Z",
	"2026-13-01T00:00:00Z",
	"2026-00-10T00:00:00Z",
	"2026-04-31T00:00:00Z",
	"2026-11-25T24:00:00Z",
	"2026-11-25T07:60:00Z",
	"2026-11-25T07:20:40+24:00",
	"2026-11-25T07:20:40+08:60",
	"2026-11-25T07:20:40.Z",
	"2026-11-25T07:20:40,5Z",
	"2026-11-25T07:20:40.1234567891Z",
	"2026-11-25T7:20:40Z",
	"2026-11-25 07:20:40Z",
	"2026-11-25T07:20:40",
	"2026-11-25T07:20:40+0800",
	"1677-09-21T00:12:43.145224192Z",
	"1677-09-21T00:12:43.145224191Z",
	"2262-04-11T23:47:16.854775807Z",
	"2262-04-11T23:47:16.854775808Z",
	"0000-01-01T00:00:00Z",
	"9999-12-31T23:59:59Z",
	"1970-01-01T00:00:00-00:00",
	"+026-11-25T07:20:40Z",
	"",
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want string // in RFC 3339 UTC; "" means in, when ok
	}{
		{"2026-11-25T07:20:40Z", true, ""},
		{"2026-11-25T07:20:40.123Z", true, ""},
		{"2026-11-25T15:20:40+08:00", true, "2026-11-25T07:20:40Z"},
		{"2026-11-25t07:20:40z", true, "2026-11-25T07:20:40Z"},
		{"2026-11-25T07:20:40.000000001Z", true, ""},
		{"2028-02-29T00:00:00Z", true, ""},
		{"2000-02-29T00:00:00Z", true, ""},
		{"1900-02-29T00:00:00Z", false, ""},
		{"2026-02-29T00:00:00Z", false, ""},
		{"2026-12-31T23:59:60Z", false, ""}, // leap seconds are rejected, as by time.Parse
		{"2026-11-25T07:20:40.1234567891Z", false, ""},
		{"2026-11-25T07:20:40+24:00", false, ""},
		{"1677-09-21T00:12:43.145224192Z", true, ""},
		{"1677-09-21T00:12:43.145224191Z", false, ""},
		{"2262-04-11T23:47:16.854775807Z", true, ""},
		{"2262-04-11T23:47:16.854775808Z", false, ""},
		{"1969-12-31T23:59:59.9Z", true, ""},
	}
	for _, tc := range tests {
		got, ok := parseTime([]byte(tc.in))
		require.Equal(t, tc.ok, ok, tc.in)
		if !ok {
			continue
		}
		want := tc.want
		if want == "" {
			want = strings.ToUpper(tc.in)
		}
		require.Equal(t, want, time.Unix(0, got).UTC().Format(time.RFC3339Nano), tc.in)
	}
}

// checkParseTime compares parseTime with time.Parse(time.RFC3339Nano) on s.
func checkParseTime(t *testing.T, s string) {
	got, ok := parseTime([]byte(s))
	ref, err := time.Parse(time.RFC3339Nano, s)
	if ok && err == nil {
		require.Equal(t, ref.UnixNano(), got, "%q: parseTime %v, time.Parse %v", s, time.Unix(0, got).UTC(), ref)
	}
	// Where they disagree, it must be one of the documented differences.
	if ok && err != nil {
		require.True(t, strings.ContainsAny(s, "tz"), "%q accepted, but time.Parse says %v", s, err)
	}
	if !ok && err == nil && len(s) >= 20 {
		y := ref.Year()
		documented := y < 1678 || y > 2261 || // out of int64 nanoseconds
			!strings.ContainsAny(s[19:20], ".Z+-") || // time.Parse's lax layout parser
			strings.Contains(s, ",") || badOffset(s) ||
			fracDigits(s) > 9 || s[13] != ':' || s[16] != ':' || s[10] != 'T'
		require.True(t, documented, "%q rejected, but time.Parse gives %v", s, ref)
	}
}

// badOffset reports whether s ends in a zone offset ±hh:mm with hh > 23 or mm > 59, which
// time.Parse's general parser lets through.
func badOffset(s string) bool {
	if len(s) < 6 {
		return false
	}
	z := s[len(s)-6:]
	return (z[0] == '+' || z[0] == '-') && z[3] == ':' && (z[1:3] > "23" || z[4:6] > "59")
}

// fracDigits returns the number of digits after the seconds' '.' in s.
func fracDigits(s string) int {
	if len(s) < 20 || s[19] != '.' {
		return 0
	}
	n := 0
	for _, c := range s[20:] {
		if c < '0' || c > '9' {
			break
		}
		n++
	}
	return n
}

func TestParseTimeAgreesWithTimeParse(t *testing.T) {
	for _, s := range timeSeeds {
		checkParseTime(t, s)
	}
	// Every day of a few years around leap years, at a few times and zones.
	for day := time.Date(1899, 12, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2102; day = day.AddDate(0, 0, 7) {
		for _, suffix := range []string{"T00:00:00Z", "T23:59:59.999+14:00", "T12:34:56.1-09:30"} {
			checkParseTime(t, day.Format("2006-01-02")+suffix)
		}
	}
	for _, s := range []string{"2026-02-29", "2028-02-29", "2100-02-29", "2000-02-29", "2026-02-30", "2026-06-31"} {
		checkParseTime(t, s+"T00:00:00Z")
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range timeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkParseTime(t, s)
		checkMinuteCache(t, s)
		if ns, ok := parseTime([]byte(s)); ok {
			// Whatever parses formats back to the same instant.
			back, ok := parseTime(time.Unix(0, ns).UTC().AppendFormat(nil, time.RFC3339Nano))
			require.True(t, ok)
			require.Equal(t, ns, back)
		}
	})
}

// checkMinuteCache checks that a minuteCache holding the minute of s (when s has one) or another
// minute changes nothing: s parses to what parseTime gives without a cache.
func checkMinuteCache(t *testing.T, s string) {
	want, wantOK := parseTime([]byte(s))
	primers := []string{"2026-11-25T07:20:00Z"}
	if len(s) >= 16 {
		primers = append(primers, s[:16]+":00Z", s[:16]+":59.5+01:00")
	}
	for _, primer := range primers {
		var c minuteCache
		c.parseTime([]byte(primer))
		for range 2 { // the second time, s may have filled the cache itself
			got, ok := c.parseTime([]byte(s))
			require.Equal(t, wantOK, ok, "%q after %q", s, primer)
			require.Equal(t, want, got, "%q after %q", s, primer)
		}
	}
}

// TestMinuteCache parses times of one minute and of its neighbours through one cache, valid and
// not, against parseTime without one.
func TestMinuteCache(t *testing.T) {
	for _, s := range []string{
		"2026-11-25T07:20:40Z", "2026-11-25T07:20:41.5Z", "2026-11-25T07:20:59+08:00",
		"2026-11-25t07:20:00z", "2026-11-25T07:20:60Z", "2026-11-25T07:20:4xZ", "2026-11-25T07:20-40Z",
		"2026-11-25T07:20:40", "2026-11-25T07:20:40.Z", "2026-11-25T07:21:00Z", "2026-11-25T07:2",
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00:00Z", "1970-01-01T00:00:00Z",
		"2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:16.854775808Z",
	} {
		checkMinuteCache(t, s)
	}
	var c minuteCache
	got, ok := c.parseTime([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00:00Z"))
	require.False(t, ok, "an empty cache matched a prefix of zero bytes: %d", got)
}
