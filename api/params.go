package api

import (
	"net/url"
	"time"

	"github.com/recordusage/recordusage/results"
)

// Query parameter names of ListRecordData, and the name used for the path's project id.
const (
	// ParamProjectID names the project id of the path in a ParamError.
	ParamProjectID = "project_id"
	// ParamPublishDomain is the optional publish domain filter.
	ParamPublishDomain = "publish_domain"
	// ParamStartTime is the first instant of the query.
	ParamStartTime = "start_time"
	// ParamEndTime is the last instant of the query.
	ParamEndTime = "end_time"
)

// TimeLayout is the only accepted format of start_time and end_time: UTC with a literal Z and
// no fractional seconds.
const TimeLayout = "2006-01-02T15:04:05Z"

// Default values of Limits.
const (
	// DefaultMaxSpan is the default Limits.MaxSpan, 31 days.
	DefaultMaxSpan = 31 * 24 * time.Hour
	// DefaultMaxLookback is the default Limits.MaxLookback, 90 days.
	DefaultMaxLookback = 90 * 24 * time.Hour
	// DefaultWindow is the span of the default query when start_time is empty: 24 points.
	DefaultWindow = 23 * time.Hour
)

// Limits configures the "now"-relative rules of ParseQuery. A zero or negative field means
// its default.
type Limits struct {
	// MaxSpan is the largest allowed End-Start (default 31 days).
	MaxSpan time.Duration
	// MaxLookback is how far before now the start hour may lie (default 90 days).
	MaxLookback time.Duration
}

// DefaultLimits returns the limits of the contract: a 31-day span and a 90-day lookback.
func DefaultLimits() Limits {
	return Limits{MaxSpan: DefaultMaxSpan, MaxLookback: DefaultMaxLookback}
}

func (l Limits) withDefaults() Limits {
	if l.MaxSpan <= 0 {
		l.MaxSpan = DefaultMaxSpan
	}
	if l.MaxLookback <= 0 {
		l.MaxLookback = DefaultMaxLookback
	}
	return l
}

// Query is a validated ListRecordData request.
type Query struct {
	// ProjectID is the project from the path.
	ProjectID string
	// PublishDomain is the lower-cased publish domain, or empty for all domains.
	PublishDomain string
	// Start is the first hour of the answer, in UTC and aligned to the hour.
	Start time.Time
	// End is the last hour of the answer (included), in UTC and aligned to the hour.
	End time.Time
}

// Hours returns the number of points of the answer, (End-Start)/1h + 1.
func (q Query) Hours() int {
	return int(q.End.Sub(q.Start)/time.Hour) + 1
}

// ParamError names an invalid request parameter.
type ParamError struct {
	// Name is the parameter's name, for example "start_time".
	Name string
}

// Error returns "Invalid request parameter: <name>", the message sent to the client.
func (e *ParamError) Error() string {
	return "Invalid request parameter: " + e.Name
}

// Body returns the error response body for e.
func (e *ParamError) Body() ErrorBody {
	return ErrorBody{ErrorCode: CodeInvalidParam, ErrorMsg: e.Error()}
}

func paramErr(name string) error { return &ParamError{Name: name} }

// single returns the only value of name, or "" when it is absent. A parameter given more
// than once is an error.
func single(values url.Values, name string) (string, error) {
	v := values[name]
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", paramErr(name)
	}
}

// parseTime parses s strictly in TimeLayout.
func parseTime(s string) (time.Time, bool) {
	if len(s) != len(TimeLayout) {
		return time.Time{}, false
	}
	for i := 0; i < len(s); i++ {
		c, l := s[i], TimeLayout[i]
		if l >= '0' && l <= '9' {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
		} else if c != l {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// ParseQuery validates a ListRecordData request: projectID from the path and the query values.
// now is the current time and lim the configurable limits. The error, if any, is a *ParamError.
//
// Rules where the contract is silent:
//   - A parameter that is present but empty is treated as absent; a parameter repeated in the
//     query is invalid; unknown parameters are ignored.
//   - Parameters are checked in the order project_id, start_time format, end_time format,
//     publish_domain, then the relations between the times; the first failure is reported.
//   - "end not after start" compares the instants as given, before truncation and clamping,
//     and only when both are given: start 07:20, end 07:40 is accepted and gives one point.
//   - A start hour after the current hour is an invalid start_time.
//   - The span is measured after clamping end_time to the current hour, so a request reaching
//     into the future is judged on the hours it can actually return.
//   - The lookback limit is hour-granular: the start hour must not be before the hour that
//     contains now - MaxLookback. When start_time was not given (24-hour default) a violation
//     is reported as end_time, the parameter the client actually sent.
func ParseQuery(projectID string, values url.Values, now time.Time, lim Limits) (Query, error) {
	lim = lim.withDefaults()
	if !ValidProjectID(projectID) {
		return Query{}, paramErr(ParamProjectID)
	}
	startS, err := single(values, ParamStartTime)
	if err != nil {
		return Query{}, err
	}
	var startGiven time.Time
	hasStart := startS != ""
	if hasStart {
		var ok bool
		if startGiven, ok = parseTime(startS); !ok {
			return Query{}, paramErr(ParamStartTime)
		}
	}
	endS, err := single(values, ParamEndTime)
	if err != nil {
		return Query{}, err
	}
	var endGiven time.Time
	hasEnd := endS != ""
	if hasEnd {
		var ok bool
		if endGiven, ok = parseTime(endS); !ok {
			return Query{}, paramErr(ParamEndTime)
		}
	}
	domain, err := single(values, ParamPublishDomain)
	if err != nil {
		return Query{}, err
	}
	if domain != "" && !ValidHostname(domain) {
		return Query{}, paramErr(ParamPublishDomain)
	}

	now = now.UTC()
	nowHour := now.Truncate(time.Hour)
	end := nowHour
	if hasEnd && !endGiven.After(now) {
		end = endGiven.Truncate(time.Hour)
	}
	var start time.Time
	if hasStart {
		start = startGiven.Truncate(time.Hour)
		if start.After(nowHour) {
			return Query{}, paramErr(ParamStartTime)
		}
		if hasEnd && !endGiven.After(startGiven) {
			return Query{}, paramErr(ParamEndTime)
		}
		if end.Sub(start) > lim.MaxSpan {
			return Query{}, paramErr(ParamEndTime)
		}
	} else {
		w := DefaultWindow
		if w > lim.MaxSpan {
			w = lim.MaxSpan.Truncate(time.Hour)
		}
		start = end.Add(-w)
	}
	if start.Before(now.Add(-lim.MaxLookback).Truncate(time.Hour)) {
		if hasStart {
			return Query{}, paramErr(ParamStartTime)
		}
		return Query{}, paramErr(ParamEndTime)
	}
	return Query{
		ProjectID:     projectID,
		PublishDomain: results.LowerDomain(domain),
		Start:         start,
		End:           end,
	}, nil
}

// ValidProjectID reports whether s is 1 to 64 characters of [A-Za-z0-9_-].
func ValidProjectID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidHostname reports whether s is a plain DNS host name in the sense of RFC 1123: at most
// 255 characters of dot-separated labels, each 1 to 63 letters, digits or hyphens, not
// starting or ending with a hyphen. Letters of either case are accepted. A trailing dot, an
// empty label and a wildcard label such as "*.example.com" are rejected: publish domains are
// concrete host names.
func ValidHostname(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	labelStart := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		n := i - labelStart
		if n == 0 || n > 63 || s[labelStart] == '-' || s[i-1] == '-' {
			return false
		}
		labelStart = i + 1
	}
	return true
}
