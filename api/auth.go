package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SignatureWindow is how far X-Sdk-Date may be from the server clock, in either direction.
// Within it a signature may be sent any number of times, as the API Gateway allows (CONTRACT.md
// §6): SDK retries and pollers send byte-identical requests within one second.
const SignatureWindow = 15 * time.Minute

// AuthReason says why a request was refused authentication or authorization. It is a bounded
// set of values, used as the reason label of the auth-failure metric and in the access log;
// it never carries a secret.
type AuthReason string

// The reasons of AuthError.
const (
	// ReasonNoCredentials: neither X-Auth-Token nor Authorization was sent.
	ReasonNoCredentials AuthReason = "no_credentials"
	// ReasonBothCredentials: both X-Auth-Token and Authorization were sent.
	ReasonBothCredentials AuthReason = "both_credentials"
	// ReasonRepeatedHeader: X-Auth-Token, Authorization or X-Project-Id was sent twice.
	ReasonRepeatedHeader AuthReason = "repeated_header"
	// ReasonUnknownToken: the token is not in the credentials file.
	ReasonUnknownToken AuthReason = "unknown_token"
	// ReasonMalformedAuthorization: Authorization is not a well-formed SDK-HMAC-SHA256 header.
	ReasonMalformedAuthorization AuthReason = "malformed_authorization"
	// ReasonDateNotSigned: x-sdk-date is not among the signed headers.
	ReasonDateNotSigned AuthReason = "date_not_signed"
	// ReasonMissingDate: the signed request has no X-Sdk-Date header.
	ReasonMissingDate AuthReason = "missing_date"
	// ReasonMalformedDate: X-Sdk-Date is repeated or not YYYYMMDDTHHMMSSZ.
	ReasonMalformedDate AuthReason = "malformed_date"
	// ReasonDateOutOfWindow: X-Sdk-Date is more than SignatureWindow away from the server clock.
	ReasonDateOutOfWindow AuthReason = "date_out_of_window"
	// ReasonUnknownKey: the access key is not in the credentials file.
	ReasonUnknownKey AuthReason = "unknown_key"
	// ReasonBodyHashMismatch: X-Sdk-Content-Sha256 is repeated or differs from the body's hash.
	ReasonBodyHashMismatch AuthReason = "body_hash_mismatch"
	// ReasonBadSignature: the signature does not verify (wrong SK, tampered request).
	ReasonBadSignature AuthReason = "bad_signature"
	// ReasonWrongProject: the credentials do not grant the path's project, or X-Project-Id
	// names another project (CodeForbiddenProject).
	ReasonWrongProject AuthReason = "wrong_project"
	// ReasonNoStore: the authenticator has no credential store (a programming error).
	ReasonNoStore AuthReason = "no_credential_store"
)

// AuthReasons lists every AuthReason, so that metrics can show each at zero from the start.
var AuthReasons = []AuthReason{ReasonNoCredentials, ReasonBothCredentials, ReasonRepeatedHeader,
	ReasonUnknownToken, ReasonMalformedAuthorization, ReasonDateNotSigned, ReasonMissingDate,
	ReasonMalformedDate, ReasonDateOutOfWindow, ReasonUnknownKey, ReasonBodyHashMismatch,
	ReasonBadSignature, ReasonWrongProject, ReasonNoStore}

// Credential schemes, as reported in the access log.
const (
	// SchemeNone is a request with neither credential header.
	SchemeNone = "none"
	// SchemeToken is a request with X-Auth-Token.
	SchemeToken = "token"
	// SchemeAKSK is a request with an Authorization header (AK/SK signature).
	SchemeAKSK = "aksk"
	// SchemeBoth is a request with both, which is refused.
	SchemeBoth = "token+aksk"
)

// credentialScheme names the credential headers r carries, without judging them.
func credentialScheme(h http.Header) string {
	_, tok := h[HeaderAuthToken]
	_, sig := h[HeaderAuthorization]
	switch {
	case tok && sig:
		return SchemeBoth
	case tok:
		return SchemeToken
	case sig:
		return SchemeAKSK
	default:
		return SchemeNone
	}
}

// AuthError is an authentication or authorization failure. Code is CodeAuthFailed or
// CodeForbiddenProject. Reason, AccessKey and Detail are for the server log and must not be
// sent to the client; none of them ever holds a secret (token, SK, signature or the
// Authorization header).
type AuthError struct {
	// Code is CodeAuthFailed or CodeForbiddenProject.
	Code string
	// Reason classifies the failure (a metric label).
	Reason AuthReason
	// AccessKey is the access key of an AK/SK request when it is a known key, else empty:
	// an unknown "access key" might be a secret pasted into the wrong field.
	AccessKey string
	// Detail is an optional diagnostic free of secrets, for example the projects involved.
	Detail string
}

// Error returns the code, the reason and the detail.
func (e *AuthError) Error() string {
	s := "auth " + e.Code + ": " + string(e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Body returns the error response body for e, with a message that reveals nothing of the
// reason.
func (e *AuthError) Body() ErrorBody {
	msg := "Authentication failed."
	if e.Code == CodeForbiddenProject {
		msg = "The credentials do not grant access to this project."
	}
	return ErrorBody{ErrorCode: e.Code, ErrorMsg: msg}
}

func authFailed(reason AuthReason) *AuthError {
	return &AuthError{Code: CodeAuthFailed, Reason: reason}
}

func forbidden(detail string) *AuthError {
	return &AuthError{Code: CodeForbiddenProject, Reason: ReasonWrongProject, Detail: detail}
}

// Principal is who a request authenticated as, for the access log.
type Principal struct {
	// Scheme is SchemeToken, SchemeAKSK or, for an insecure authenticator, SchemeNone.
	Scheme string
	// AccessKey is the access key of an AK/SK request.
	AccessKey string
}

// Authenticator checks the credentials of requests against a Store. It is safe for
// concurrent use.
type Authenticator struct {
	store    *Store
	now      func() time.Time
	window   time.Duration
	insecure bool
}

// NewAuthenticator returns an Authenticator that accepts the credentials of store, with clock
// now (time.Now when nil) and a ±15-minute signature window.
func NewAuthenticator(store *Store, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{store: store, now: now, window: SignatureWindow}
}

// NewInsecureAuthenticator returns an Authenticator that authorizes every request for every
// project without looking at its headers. It is meant for local development only.
func NewInsecureAuthenticator() *Authenticator {
	return &Authenticator{insecure: true}
}

// Insecure reports whether a was built by NewInsecureAuthenticator.
func (a *Authenticator) Insecure() bool { return a.insecure }

// Authorize checks the request's credentials for projectID; body is the raw request body
// (empty for GET). It returns nil or an *AuthError.
//
// A request carries exactly one of X-Auth-Token and an SDK-HMAC-SHA256 Authorization header;
// both, neither, or either repeated is an authentication failure. For AK/SK, X-Sdk-Date must be
// signed and within the window, and X-Sdk-Content-Sha256 (when present) must equal the SHA-256
// of body. A valid signature may be sent again as long as its date is within the window: the
// gateway does the same, and SDK retries and pollers rely on it. Credentials that authenticate
// but do not grant projectID, or an X-Project-Id header naming another project, give
// CodeForbiddenProject.
func (a *Authenticator) Authorize(r *http.Request, projectID string, body []byte) error {
	if _, err := a.authorize(r, projectID, body); err != nil {
		return err
	}
	return nil
}

// authorize is Authorize, also returning who the request authenticated as. The error, when not
// nil, is an *AuthError.
func (a *Authenticator) authorize(r *http.Request, projectID string, body []byte) (Principal, error) {
	if a.insecure {
		return Principal{Scheme: SchemeNone}, nil
	}
	if a.store == nil {
		return Principal{}, authFailed(ReasonNoStore)
	}
	authz := r.Header.Values(HeaderAuthorization)
	tokens := r.Header.Values(HeaderAuthToken)
	if len(authz) > 1 || len(tokens) > 1 {
		return Principal{}, authFailed(ReasonRepeatedHeader)
	}
	var p Principal
	var grant string
	switch {
	case len(authz) == 1 && len(tokens) == 1:
		return Principal{}, authFailed(ReasonBothCredentials)
	case len(tokens) == 1:
		g, ok := a.store.load().tokens[sha256.Sum256([]byte(tokens[0]))]
		if !ok {
			return Principal{}, authFailed(ReasonUnknownToken)
		}
		p, grant = Principal{Scheme: SchemeToken}, g
	case len(authz) == 1:
		entry, err := a.verifyAKSK(r, authz[0], body)
		if err != nil {
			return Principal{}, err
		}
		p, grant = Principal{Scheme: SchemeAKSK, AccessKey: entry.AK}, entry.ProjectID
	default:
		return Principal{}, authFailed(ReasonNoCredentials)
	}

	if pids := r.Header.Values(HeaderProjectID); len(pids) > 0 {
		if len(pids) > 1 {
			e := forbidden("repeated X-Project-Id")
			e.AccessKey = p.AccessKey
			return p, e
		}
		if pids[0] != projectID {
			e := forbidden("X-Project-Id " + strconv.Quote(pids[0]) + " differs from the path's project")
			e.AccessKey = p.AccessKey
			return p, e
		}
	}
	if grant != AllProjects && grant != projectID {
		e := forbidden("credentials grant project " + grant + ", not " + strconv.Quote(projectID))
		e.AccessKey = p.AccessKey
		return p, e
	}
	return p, nil
}

// verifyAKSK verifies an SDK-HMAC-SHA256 request and returns the entry of its access key.
// The order of the checks is deliberate: everything that needs no secret comes first, so that
// a malformed request costs no HMAC.
func (a *Authenticator) verifyAKSK(r *http.Request, authz string, body []byte) (AccessKeyEntry, error) {
	ak, signed, sigHex, err := ParseAuthorization(authz)
	if err != nil {
		// The parser's message may quote parts of the header: it is not logged.
		return AccessKeyEntry{}, authFailed(ReasonMalformedAuthorization)
	}
	hasDate := false
	for _, h := range signed {
		if h == "x-sdk-date" {
			hasDate = true
			break
		}
	}
	if !hasDate {
		return AccessKeyEntry{}, authFailed(ReasonDateNotSigned)
	}
	dates := r.Header.Values(HeaderSdkDate)
	switch len(dates) {
	case 0:
		return AccessKeyEntry{}, authFailed(ReasonMissingDate)
	case 1:
	default:
		return AccessKeyEntry{}, authFailed(ReasonMalformedDate)
	}
	date := strings.TrimSpace(dates[0])
	t, err := time.Parse(SignDateLayout, date)
	if err != nil || len(date) != len(SignDateLayout) {
		return AccessKeyEntry{}, authFailed(ReasonMalformedDate)
	}
	if d := a.now().Sub(t); d > a.window || d < -a.window {
		e := authFailed(ReasonDateOutOfWindow)
		e.Detail = "X-Sdk-Date " + date
		return AccessKeyEntry{}, e
	}
	entry, ok := a.store.load().aks[ak]
	if !ok {
		return AccessKeyEntry{}, authFailed(ReasonUnknownKey)
	}
	fail := func(reason AuthReason, detail string) (AccessKeyEntry, error) {
		return AccessKeyEntry{}, &AuthError{Code: CodeAuthFailed, Reason: reason, AccessKey: ak, Detail: detail}
	}
	payload, err := payloadHash(r.Header, body)
	if err != nil {
		return fail(ReasonBodyHashMismatch, err.Error())
	}
	if _, ok := r.Header[http.CanonicalHeaderKey(HeaderContentSha256)]; ok {
		sum := sha256.Sum256(body)
		var want [64]byte
		hex.Encode(want[:], sum[:])
		if payload != string(want[:]) {
			return fail(ReasonBodyHashMismatch, HeaderContentSha256+" does not match the body")
		}
	}
	var buf [1024]byte
	cr, err := appendCanonicalRequest(buf[:0], r, r.Host, signed, payload)
	if err != nil {
		return fail(ReasonBadSignature, "query not canonicalizable")
	}
	want := signature(entry.SK, date, cr)
	var got [32]byte
	if _, err := hex.Decode(got[:], []byte(sigHex)); err != nil {
		return fail(ReasonMalformedAuthorization, "signature is not 64 hex digits")
	}
	if !hmac.Equal(got[:], want[:]) {
		return fail(ReasonBadSignature, "")
	}
	return entry, nil
}
