package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// The access log: one line per request. A refused request (4xx, 503 while not ready, and the
// 501 and 505 of a request net/http cannot read) is logged at info level with why, so that an operator can tell a client with a
// wrong key from one with a skewed clock without turning on debug; a failure (500) at error
// level with the internal error; a served request at debug level, since at the rates the
// service runs, one line per success would be most of its work. No line holds a secret: not
// the token, the SK, the signature, nor the Authorization header; an access key only when it
// is a known one (an unknown "access key" may be a secret pasted into the wrong field).

// accessEntry is what the access log records of one request.
type accessEntry struct {
	requestID  string
	method     string
	path       string
	remoteAddr string
	status     int
	err        error // what was answered; nil for a success
	project    string
	scheme     string // SchemeNone, SchemeToken, SchemeAKSK or SchemeBoth
	accessKey  string
	duration   time.Duration // zero when unknown
}

func (s *Server) logAccess(e *accessEntry) {
	level, msg := slog.LevelDebug, "request served"
	if e.err != nil { // checked first: a served request must not pay for errors.As
		level, msg = slog.LevelInfo, "request refused"
		if isInternal(e.err) {
			level, msg = slog.LevelError, "request failed"
		}
	}
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs, slog.String("request_id", e.requestID), slog.Int("status", e.status))
	if e.err != nil {
		_, body := errorResponse(e.err)
		reason, detail := refusalReason(e.err)
		attrs = append(attrs, slog.String("error_code", body.ErrorCode), slog.String("reason", reason))
		if detail != "" {
			attrs = append(attrs, slog.String("detail", detail))
		}
	}
	if e.method != "" {
		attrs = append(attrs, slog.String("method", e.method), slog.String("path", e.path))
	}
	if e.project != "" {
		attrs = append(attrs, slog.String("project", e.project))
	}
	if e.scheme != "" {
		attrs = append(attrs, slog.String("auth", e.scheme))
	}
	if e.accessKey != "" {
		attrs = append(attrs, slog.String("access_key", e.accessKey))
	}
	attrs = append(attrs, slog.String("remote_addr", e.remoteAddr))
	if e.duration > 0 {
		attrs = append(attrs, slog.Float64("duration_seconds", e.duration.Seconds()))
	}
	s.log.LogAttrs(ctx, level, msg, attrs...)
}

func isInternal(err error) bool {
	var ie *internalError
	return errors.As(err, &ie)
}

// refusalReason returns a short, bounded reason for the log line of err, and a detail free of
// secrets. For an authentication failure the reason is its AuthReason, the label of
// recordusage_query_auth_failures_total.
func refusalReason(err error) (reason, detail string) {
	var pe *ParamError
	var ae *AuthError
	var proto *ProtocolError
	switch {
	case errors.As(err, &pe):
		return "invalid_parameter", pe.Name
	case errors.As(err, &ae):
		return string(ae.Reason), ae.Detail
	case errors.As(err, &proto):
		switch proto.Status {
		case http.StatusRequestHeaderFieldsTooLarge:
			return "header_too_large", ""
		case http.StatusRequestTimeout:
			return "request_timeout", ""
		}
		return "malformed_request", proto.Detail
	case errors.Is(err, ErrNotFound):
		return "not_found", ""
	case errors.Is(err, ErrMethodNotAllowed):
		return "method_not_allowed", ""
	case errors.Is(err, ErrNotReady):
		return "not_ready", ""
	default:
		return "internal", err.Error()
	}
}
