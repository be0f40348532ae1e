package api

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)

func ts(s string) time.Time {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseQuery(t *testing.T) {
	type tc struct {
		name    string
		project string // "" means "proj_1"
		query   string
		lim     Limits
		errName string // expected ParamError name; "" for success
		start   string
		end     string
		hours   int
		domain  string
	}
	long := strings.Repeat("a", 63)
	cases := []tc{
		// Defaults.
		{name: "defaults", query: "", start: "2026-11-24T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 24},
		{name: "empty values are absent", query: "start_time=&end_time=&publish_domain=", start: "2026-11-24T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 24},
		{name: "end only gives 24 points", query: "end_time=2026-11-25T07:20:40Z", start: "2026-11-24T08:00:00Z", end: "2026-11-25T07:00:00Z", hours: 24},
		{name: "start only ends now", query: "start_time=2026-11-25T07:20:40Z", start: "2026-11-25T07:00:00Z", end: "2026-11-25T10:00:00Z", hours: 4},
		{name: "both truncated", query: "start_time=2026-11-25T07:20:40Z&end_time=2026-11-25T09:59:59Z", start: "2026-11-25T07:00:00Z", end: "2026-11-25T09:00:00Z", hours: 3},
		{name: "same hour as given order ok", query: "start_time=2026-11-25T07:20:00Z&end_time=2026-11-25T07:40:00Z", start: "2026-11-25T07:00:00Z", end: "2026-11-25T07:00:00Z", hours: 1},
		{name: "unknown params ignored", query: "foo=bar&foo=baz&Start_Time=x", start: "2026-11-24T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 24},
		// Ordering.
		{name: "end equals start", query: "start_time=2026-11-25T07:20:00Z&end_time=2026-11-25T07:20:00Z", errName: "end_time"},
		{name: "end before start", query: "start_time=2026-11-25T07:20:00Z&end_time=2026-11-25T07:10:00Z", errName: "end_time"},
		{name: "end before start other hour", query: "start_time=2026-11-25T08:00:00Z&end_time=2026-11-25T07:00:00Z", errName: "end_time"},
		// Clamping and the future.
		{name: "future end clamped", query: "start_time=2026-11-25T08:00:00Z&end_time=2026-12-01T00:00:00Z", start: "2026-11-25T08:00:00Z", end: "2026-11-25T10:00:00Z", hours: 3},
		{name: "future end alone clamped", query: "end_time=2027-01-01T00:00:00Z", start: "2026-11-24T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 24},
		{name: "end later in current hour", query: "start_time=2026-11-25T10:00:00Z&end_time=2026-11-25T10:45:00Z", start: "2026-11-25T10:00:00Z", end: "2026-11-25T10:00:00Z", hours: 1},
		{name: "start in current hour after now", query: "start_time=2026-11-25T10:40:00Z", start: "2026-11-25T10:00:00Z", end: "2026-11-25T10:00:00Z", hours: 1},
		{name: "start in a future hour", query: "start_time=2026-11-25T11:00:00Z", errName: "start_time"},
		{name: "start and end in the future", query: "start_time=2026-11-26T00:00:00Z&end_time=2026-11-27T00:00:00Z", errName: "start_time"},
		// Span.
		{name: "exact 31 days", query: "start_time=2026-10-25T07:00:00Z&end_time=2026-11-25T07:00:00Z", start: "2026-10-25T07:00:00Z", end: "2026-11-25T07:00:00Z", hours: 31*24 + 1},
		{name: "31 days and an hour", query: "start_time=2026-10-25T07:00:00Z&end_time=2026-11-25T08:00:00Z", errName: "end_time"},
		{name: "31 days after truncation", query: "start_time=2026-10-25T07:59:59Z&end_time=2026-11-25T07:59:59Z", start: "2026-10-25T07:00:00Z", end: "2026-11-25T07:00:00Z", hours: 745},
		{name: "span over 31 days via truncation", query: "start_time=2026-10-25T07:59:59Z&end_time=2026-11-25T08:00:00Z", errName: "end_time"},
		{name: "span measured after clamping", query: "start_time=2026-10-26T00:00:00Z&end_time=2027-06-01T00:00:00Z", start: "2026-10-26T00:00:00Z", end: "2026-11-25T10:00:00Z", hours: 30*24 + 11},
		{name: "span limit configurable", query: "start_time=2026-11-23T10:00:00Z&end_time=2026-11-25T10:00:00Z", lim: Limits{MaxSpan: 47 * time.Hour}, errName: "end_time"},
		{name: "span limit configurable ok", query: "start_time=2026-11-23T11:00:00Z&end_time=2026-11-25T10:00:00Z", lim: Limits{MaxSpan: 47 * time.Hour}, start: "2026-11-23T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 48},
		{name: "small span shortens default", query: "", lim: Limits{MaxSpan: 5*time.Hour + 30*time.Minute}, start: "2026-11-25T05:00:00Z", end: "2026-11-25T10:00:00Z", hours: 6},
		// Lookback: now-90d = 2026-08-27T10:30Z, whose hour 10:00 is the oldest start.
		{name: "lookback edge ok", query: "start_time=2026-08-27T10:00:00Z&end_time=2026-08-28T00:00:00Z", start: "2026-08-27T10:00:00Z", end: "2026-08-28T00:00:00Z", hours: 15},
		{name: "lookback edge ok within hour", query: "start_time=2026-08-27T10:59:59Z&end_time=2026-08-28T00:00:00Z", start: "2026-08-27T10:00:00Z", end: "2026-08-28T00:00:00Z", hours: 15},
		{name: "lookback one second too old", query: "start_time=2026-08-27T09:59:59Z&end_time=2026-08-28T00:00:00Z", errName: "start_time"},
		{name: "lookback default start ok", query: "end_time=2026-08-28T09:00:00Z", start: "2026-08-27T10:00:00Z", end: "2026-08-28T09:00:00Z", hours: 24},
		{name: "lookback default start too old", query: "end_time=2026-08-28T08:59:59Z", errName: "end_time"},
		{name: "lookback configurable", query: "start_time=2026-11-18T09:00:00Z", lim: Limits{MaxLookback: 7 * 24 * time.Hour}, errName: "start_time"},
		{name: "ancient start", query: "start_time=0000-01-01T00:00:00Z&end_time=0000-01-02T00:00:00Z", errName: "start_time"},
		// Formats.
		{name: "offset", query: "start_time=" + url.QueryEscape("2026-11-25T07:20:40+08:00"), errName: "start_time"},
		{name: "space separator", query: "start_time=" + url.QueryEscape("2026-11-25 07:20:40Z"), errName: "start_time"},
		{name: "fraction", query: "end_time=2026-11-25T07:20:40.000Z", errName: "end_time"},
		{name: "lower z", query: "end_time=2026-11-25T07:20:40z", errName: "end_time"},
		{name: "no zone", query: "end_time=2026-11-25T07:20:40", errName: "end_time"},
		{name: "month 13", query: "start_time=2026-13-01T00:00:00Z", errName: "start_time"},
		{name: "feb 30", query: "start_time=2026-02-30T00:00:00Z", errName: "start_time"},
		{name: "hour 24", query: "end_time=2026-11-25T24:00:00Z", errName: "end_time"},
		{name: "minute 60", query: "end_time=2026-11-25T07:60:00Z", errName: "end_time"},
		{name: "leap second", query: "end_time=2026-11-25T07:59:60Z", errName: "end_time"},
		{name: "leading space", query: "start_time=" + url.QueryEscape(" 2026-11-25T07:20:40Z"), errName: "start_time"},
		{name: "signed year", query: "start_time=" + url.QueryEscape("+026-11-25T07:20:40Z"), errName: "start_time"},
		{name: "unix seconds", query: "end_time=1764055240", errName: "end_time"},
		{name: "date only", query: "start_time=2026-11-25", errName: "start_time"},
		{name: "start format checked before end", query: "start_time=x&end_time=y", errName: "start_time"},
		// Repeated parameters.
		{name: "repeated start", query: "start_time=2026-11-25T07:00:00Z&start_time=2026-11-25T07:00:00Z", errName: "start_time"},
		{name: "repeated end", query: "end_time=2026-11-25T07:00:00Z&end_time=", errName: "end_time"},
		{name: "repeated domain", query: "publish_domain=a.com&publish_domain=b.com", errName: "publish_domain"},
		// Project id.
		{name: "empty project", project: "-empty-", errName: "project_id"},
		{name: "65-char project", project: strings.Repeat("p", 65), errName: "project_id"},
		{name: "64-char project", project: strings.Repeat("p", 64), start: "2026-11-24T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 24},
		{name: "project with slash", project: "a/b", errName: "project_id"},
		{name: "project with space", project: "a b", errName: "project_id"},
		{name: "project unicode", project: "projé", errName: "project_id"},
		{name: "project checked first", project: "a.b", query: "start_time=x", errName: "project_id"},
		// Publish domain.
		{name: "domain lower-cased", query: "publish_domain=Push.Example.COM", domain: "push.example.com", start: "2026-11-24T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 24},
		{name: "domain 63-char label", query: "publish_domain=" + long + ".com", domain: long + ".com", start: "2026-11-24T11:00:00Z", end: "2026-11-25T10:00:00Z", hours: 24},
		{name: "domain 64-char label", query: "publish_domain=" + long + "a.com", errName: "publish_domain"},
		{name: "domain leading hyphen", query: "publish_domain=-a.com", errName: "publish_domain"},
		{name: "domain trailing hyphen", query: "publish_domain=a-.com", errName: "publish_domain"},
		{name: "domain empty label", query: "publish_domain=a..com", errName: "publish_domain"},
		{name: "domain leading dot", query: "publish_domain=.a.com", errName: "publish_domain"},
		{name: "domain trailing dot", query: "publish_domain=a.com.", errName: "publish_domain"},
		{name: "domain wildcard", query: "publish_domain=*.a.com", errName: "publish_domain"},
		{name: "domain underscore", query: "publish_domain=a_b.com", errName: "publish_domain"},
		{name: "domain port", query: "publish_domain=a.com:80", errName: "publish_domain"},
		{name: "domain space", query: "publish_domain=a%20b.com", errName: "publish_domain"},
		{name: "domain unicode", query: "publish_domain=%C3%BC.com", errName: "publish_domain"},
		{name: "domain url", query: "publish_domain=" + url.QueryEscape("http://a.com"), errName: "publish_domain"},
		{name: "domain before times", query: "publish_domain=-&end_time=2026-11-25T07:00:00Z&start_time=2026-11-25T08:00:00Z", errName: "publish_domain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			project := c.project
			switch project {
			case "":
				project = "proj_1"
			case "-empty-":
				project = ""
			}
			values, err := url.ParseQuery(c.query)
			require.NoError(t, err)
			q, err := ParseQuery(project, values, testNow, c.lim)
			if c.errName != "" {
				var pe *ParamError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, c.errName, pe.Name)
				require.Equal(t, "Invalid request parameter: "+c.errName, err.Error())
				require.Equal(t, ErrorBody{ErrorCode: CodeInvalidParam, ErrorMsg: err.Error()}, pe.Body())
				return
			}
			require.NoError(t, err)
			require.Equal(t, project, q.ProjectID)
			require.Equal(t, c.domain, q.PublishDomain)
			require.Equal(t, ts(c.start), q.Start)
			require.Equal(t, ts(c.end), q.End)
			require.Equal(t, time.UTC, q.Start.Location())
			require.Equal(t, time.UTC, q.End.Location())
			require.Equal(t, c.hours, q.Hours())
		})
	}
}

func TestParseQueryNowInOtherZone(t *testing.T) {
	loc := time.FixedZone("UTC+5:30", 5*3600+1800)
	q, err := ParseQuery("p", url.Values{}, testNow.In(loc), DefaultLimits())
	require.NoError(t, err)
	require.Equal(t, ts("2026-11-25T10:00:00Z"), q.End)
	require.Equal(t, time.UTC, q.End.Location())
}

func TestValidHostname(t *testing.T) {
	require.True(t, ValidHostname("localhost"))
	require.True(t, ValidHostname("a"))
	require.True(t, ValidHostname("1.2.3.4"))
	require.True(t, ValidHostname("xn--bcher-kva.example"))
	label := strings.Repeat("a", 63)
	name255 := label + "." + label + "." + label + "." + strings.Repeat("b", 63)
	require.Len(t, name255, 255)
	require.True(t, ValidHostname(name255))
	require.False(t, ValidHostname(name255+"c"))
	for _, s := range []string{"", ".", "-", "a.-", "a b", "a/b", "*", "*.a.com", "a..b", "a.b."} {
		require.False(t, ValidHostname(s), s)
	}
}

func TestValidProjectID(t *testing.T) {
	require.True(t, ValidProjectID("0123456789abcdefABCDEF_-"))
	require.True(t, ValidProjectID(strings.Repeat("x", 64)))
	for _, s := range []string{"", strings.Repeat("x", 65), "*", "a.b", "a:b", "ü", "a\x00"} {
		require.False(t, ValidProjectID(s), s)
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("proj", "start_time=2026-11-25T07:20:40Z&end_time=2026-11-25T09:00:00Z", int64(1795602600), uint16(744), uint16(2160))
	f.Add("proj", "end_time=2027-01-01T00:00:00Z", int64(1795602600), uint16(744), uint16(2160))
	f.Add("proj", "start_time=2026-10-25T07:00:00Z&end_time=2026-11-25T07:00:00Z", int64(1795602600), uint16(0), uint16(0))
	f.Add("p", "publish_domain=A.b&start_time=2026-11-25T10:59:59Z", int64(1795602600), uint16(3), uint16(5))
	f.Add("", "", int64(0), uint16(1), uint16(1))
	f.Fuzz(func(t *testing.T, project, rawQuery string, nowUnix int64, spanHours, lookbackHours uint16) {
		// Keep now within years 1970-2300.
		nowUnix = nowUnix % (330 * 365 * 24 * 3600)
		if nowUnix < 0 {
			nowUnix = -nowUnix
		}
		now := time.Unix(nowUnix, 0)
		lim := Limits{MaxSpan: time.Duration(spanHours) * time.Hour, MaxLookback: time.Duration(lookbackHours) * time.Hour}
		values, _ := url.ParseQuery(rawQuery)
		q, err := ParseQuery(project, values, now, lim)
		if err != nil {
			var pe *ParamError
			if !errorAs(err, &pe) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		eff := lim.withDefaults()
		if q.Start.After(q.End) {
			t.Fatalf("start %v after end %v", q.Start, q.End)
		}
		for _, x := range []time.Time{q.Start, q.End} {
			if x.Location() != time.UTC || !x.Truncate(time.Hour).Equal(x) || x.Nanosecond() != 0 {
				t.Fatalf("not a UTC hour: %v", x)
			}
		}
		if q.End.Sub(q.Start) > eff.MaxSpan {
			t.Fatalf("span %v over %v", q.End.Sub(q.Start), eff.MaxSpan)
		}
		if h := q.Hours(); h < 1 || h > int(eff.MaxSpan/time.Hour)+1 {
			t.Fatalf("hours %d", h)
		}
		if q.End.After(now) {
			t.Fatalf("end %v after now %v", q.End, now)
		}
		if q.Start.Before(now.Add(-eff.MaxLookback).Truncate(time.Hour)) {
			t.Fatalf("start %v too old", q.Start)
		}
		if !ValidProjectID(q.ProjectID) || (q.PublishDomain != "" && !ValidHostname(q.PublishDomain)) {
			t.Fatalf("invalid ids %q %q", q.ProjectID, q.PublishDomain)
		}
	})
}

func errorAs(err error, target **ParamError) bool {
	pe, ok := err.(*ParamError)
	if ok {
		*target = pe
	}
	return ok
}

func BenchmarkParseQuery(b *testing.B) {
	values, _ := url.ParseQuery("publish_domain=push.example.com&start_time=2026-11-24T07:20:40Z&end_time=2026-11-25T09:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseQuery("0123456789abcdef0123456789abcdef", values, testNow, DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}
