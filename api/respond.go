package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// HeaderRequestID carries the unique id of every response.
const HeaderRequestID = "X-Request-Id"

// Errors of the server that are not parameter or authentication errors.
var (
	// ErrNotFound is an unknown path (404, CodeNotFound).
	ErrNotFound = errors.New("api: no such path")
	// ErrMethodNotAllowed is a method the path does not serve (405, CodeMethodNotAllowed).
	ErrMethodNotAllowed = errors.New("api: method not allowed")
	// ErrNotReady is answered while the results are still being loaded at start-up (503 with
	// Retry-After). Its error code is CodeInternal, the contract giving none: clients treat it
	// as a server-side failure to retry.
	ErrNotReady = errors.New("api: results not loaded yet")
)

// ProtocolError is a request that the HTTP server refused before routing it: a malformed
// request line, a header with an invalid name or value, a header block over the limit, an
// unsupported protocol version or transfer encoding, a header that came too slowly (see
// Server.Refuse). Its error code is
// CodeInvalidParam whatever the status: the request, not the server, is at fault.
type ProtocolError struct {
	// Status is the status the HTTP server chose: 400, 408, 431, 501, 505…
	Status int
	// Detail is the HTTP server's short reason, such as "invalid header value", or empty. It
	// holds no byte of the request.
	Detail string
}

func (e *ProtocolError) Error() string {
	return "api: malformed HTTP request (" + strconv.Itoa(e.Status) + "): " + e.Detail
}

// internalError wraps an unexpected failure; only its existence reaches the client.
type internalError struct{ err error }

func (e *internalError) Error() string { return "api: internal: " + e.err.Error() }
func (e *internalError) Unwrap() error { return e.err }

func errInternal(err error) error { return &internalError{err: err} }

// errorResponse is the one place that turns an error into an HTTP status and the body sent
// to the client. Anything it does not know is a 500 whose body reveals nothing.
func errorResponse(err error) (int, ErrorBody) {
	var pe *ParamError
	var ae *AuthError
	var proto *ProtocolError
	switch {
	case errors.As(err, &pe):
		return http.StatusBadRequest, pe.Body()
	case errors.As(err, &ae):
		return StatusForCode(ae.Code), ae.Body()
	case errors.As(err, &proto):
		status := proto.Status
		if status < 400 || status > 599 {
			status = http.StatusBadRequest
		}
		msg := "Malformed HTTP request."
		switch {
		case status == http.StatusRequestHeaderFieldsTooLarge:
			msg = "Request header fields too large."
		case status == http.StatusRequestTimeout:
			msg = "The request was not received in time."
		case proto.Detail != "":
			msg = "Malformed HTTP request: " + proto.Detail + "."
		}
		return status, ErrorBody{ErrorCode: CodeInvalidParam, ErrorMsg: msg}
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, ErrorBody{ErrorCode: CodeNotFound, ErrorMsg: "The requested resource does not exist."}
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed, ErrorBody{ErrorCode: CodeMethodNotAllowed, ErrorMsg: "The method is not allowed for this resource."}
	case errors.Is(err, ErrNotReady):
		return http.StatusServiceUnavailable, ErrorBody{ErrorCode: CodeInternal, ErrorMsg: "The service is starting and has not loaded the results yet; retry later."}
	default:
		return http.StatusInternalServerError, ErrorBody{ErrorCode: CodeInternal, ErrorMsg: "Internal server error."}
	}
}

var jsonContentType = []string{"application/json"}

// writeError sends the error response of err and records it for the access log and the
// metrics (see ServeHTTP).
func (s *Server) writeError(w *responseWriter, err error) {
	status, body := errorResponse(err)
	b, _ := json.Marshal(body)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b)
	w.err = err
	var ae *AuthError
	if errors.As(err, &ae) {
		s.m.authFailure(ae.Reason)
	}
}

// appendRecordDataList appends the 200 body for consecutive hours from start:
// {"record_data_list":[{"time":"…","concurrent_count":N},…]}. It does not allocate beyond
// growing dst; the date part of the time is formatted once per day.
func appendRecordDataList(dst []byte, start time.Time, peaks []Peak) []byte {
	dst = append(dst, `{"record_data_list":[`...)
	var day [11]byte // "YYYY-MM-DDT"
	t := start.UTC()
	hour := t.Hour()
	formatDay(&day, t)
	for i, p := range peaks {
		if i > 0 {
			dst = append(dst, ',')
			hour++
			if hour == 24 {
				hour = 0
				t = t.Add(24 * time.Hour)
				formatDay(&day, t)
			}
		}
		minute := int(p.Canonical().Minute) // a zero hour reads as hh:00
		dst = append(dst, `{"time":"`...)
		dst = append(dst, day[:]...)
		dst = append2(dst, hour)
		dst = append(dst, ':')
		dst = append2(dst, minute)
		dst = append(dst, `:00Z","concurrent_count":`...)
		dst = strconv.AppendUint(dst, uint64(p.Count), 10)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func formatDay(day *[11]byte, t time.Time) {
	y, m, d := t.Date()
	b := day[:0]
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, '-')
	b = append2(b, int(m))
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	_ = b
}

func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}
