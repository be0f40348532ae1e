package api

import "net/http"

// Error codes returned in the error_code field of an error response. They follow the codes of
// Huawei Cloud Live so that existing clients can keep their error handling.
const (
	// CodeInvalidParam reports an invalid request parameter (HTTP 400).
	CodeInvalidParam = "LIVE.100011001"
	// CodeAuthFailed reports missing, malformed or failed authentication (HTTP 401).
	CodeAuthFailed = "LIVE.100011002"
	// CodeForbiddenProject reports valid credentials that do not grant the requested project
	// (HTTP 401).
	CodeForbiddenProject = "LIVE.100011015"
	// CodeNotFound reports an unknown path (HTTP 404).
	CodeNotFound = "LIVE.103011019"
	// CodeMethodNotAllowed reports a method other than the ones a path serves (HTTP 405).
	CodeMethodNotAllowed = "LIVE.100011011"
	// CodeInternal reports a server-side failure (HTTP 500).
	CodeInternal = "LIVE.100011000"
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	// ErrorCode is one of the Code constants.
	ErrorCode string `json:"error_code"`
	// ErrorMsg is a human-readable message that is safe to show to the client.
	ErrorMsg string `json:"error_msg"`
}

// StatusForCode returns the HTTP status that goes with an error code, or 500 for an unknown
// code.
func StatusForCode(code string) int {
	switch code {
	case CodeInvalidParam:
		return http.StatusBadRequest
	case CodeAuthFailed, CodeForbiddenProject:
		return http.StatusUnauthorized
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}
