// Package api holds the HTTP API layer of the ListRecordData service, a re-implementation of
// Huawei Cloud Live's
//
//	GET /v2/{project_id}/stats/record?publish_domain=&start_time=&end_time=
//
// which returns the per-hour peak of concurrent recordings. The package provides two
// self-contained pieces, request-parameter validation (ParseQuery, contract §5) and
// authentication (Authenticator, contract §6), the error codes and error body shared by the
// whole API, and the HTTP Server that combines them over a PeakSource (query.Store).
//
// # Server
//
// Server routes by exact path. Every response gets a fresh X-Request-Id (128 random bits in
// hex) and is counted in recordusage_query_http_requests_total{code} and
// recordusage_query_http_request_duration_seconds; a panic becomes a 500 whose body reveals
// nothing (the log has the detail under the request id). ListRecordData checks, in order: path
// (404), method (405, only GET), project id (400), size of the query (400 "query"),
// authentication (401), parameters (400), readiness (503 with Retry-After, error code
// CodeInternal since the contract gives none). Authentication precedes parameters so that
// unauthenticated callers learn nothing. One function, errorResponse, maps every error to its
// status and body, including the ProtocolError of a request that net/http refused before
// routing it, which Server.Refuse answers for the listener of internal/ops. The access log
// (accesslog.go) has one line per request: refusals at info level, successes at debug. The 200 body is encoded by
// hand into a pooled buffer, one point per hour, the date formatted once per day.
// The OpenAPI document is embedded from openapi.yaml and served at /openapi.yaml.
//
// # Parameters
//
// ParseQuery turns the path's project id and the query into a Query of whole UTC hours, both
// ends included. Its documentation lists the decisions taken where the contract is silent:
// empty means absent, repeated parameters are rejected, unknown ones ignored, the
// end-after-start rule compares the instants as given, the span is measured after clamping a
// future end to the current hour, and the lookback limit is hour-granular. Publish domains are
// plain RFC 1123 host names (no wildcard, no trailing dot), matched case-insensitively.
//
// # Authentication
//
// A request authenticates with either an X-Auth-Token header or the SDK-HMAC-SHA256 AK/SK
// signature of the Huawei Cloud API Gateway, as produced by the official SDKs and by Sign.
// Tokens are looked up by their SHA-256, so the lookup time does not depend on how much of a
// token matches. Signatures are compared with hmac.Equal. The verifier builds the canonical
// request from the header list of the Authorization header, takes "host" from Request.Host,
// requires X-Sdk-Date to be signed and within ±15 minutes of the server clock, and requires
// X-Sdk-Content-Sha256, when sent, to match the body.
//
// A signature is valid for its whole window and may be sent any number of times, as the API
// Gateway allows (CONTRACT.md §6): the SDKs date signatures to the second, so SDK retries and
// two pollers of the same range send byte-identical requests within one second. There is no
// replay cache; what the window and the signature protect against is an old signature and a
// request altered after signing.
//
// Every refusal has an AuthReason (unknown_token, bad_signature, date_out_of_window…), counted
// in recordusage_query_auth_failures_total{reason} and written, with the request id, project
// and credential scheme but never a secret, to the access log at info level.
//
// Credentials come from a JSON file (see Credentials) held by a Store, which Reload swaps
// atomically so that a SIGHUP handler can rotate keys without dropping requests. A project id
// of "*" grants every project. Credentials that authenticate but do not grant the path's
// project, or an X-Project-Id header naming another project, give CodeForbiddenProject.
package api
