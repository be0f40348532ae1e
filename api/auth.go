package api

import (
	"container/heap"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SignatureWindow is how far X-Sdk-Date may be from the server clock, in either direction.
const SignatureWindow = 15 * time.Minute

// DefaultReplayCapacity bounds the number of signatures remembered for replay detection.
// A signature is remembered until its X-Sdk-Date leaves the window, at most 30 minutes, so
// the default allows a sustained rate of about 145 signed requests per second; beyond that,
// signed requests are refused until older entries expire (the cache fails closed).
const DefaultReplayCapacity = 1 << 18

// AuthError is an authentication or authorization failure. Code is CodeAuthFailed or
// CodeForbiddenProject; Reason explains the failure for logs and must not be sent to the
// client.
type AuthError struct {
	// Code is CodeAuthFailed or CodeForbiddenProject.
	Code string
	// Reason is a diagnostic for the server log.
	Reason string
}

// Error returns the code and the reason.
func (e *AuthError) Error() string {
	return "auth " + e.Code + ": " + e.Reason
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

func authFailed(reason string) error { return &AuthError{Code: CodeAuthFailed, Reason: reason} }
func forbidden(reason string) error  { return &AuthError{Code: CodeForbiddenProject, Reason: reason} }

// Authenticator checks the credentials of requests against a Store. It is safe for
// concurrent use.
type Authenticator struct {
	store    *Store
	now      func() time.Time
	window   time.Duration
	insecure bool
	replay   *replayCache
}

// NewAuthenticator returns an Authenticator that accepts the credentials of store, with clock
// now (time.Now when nil) and a ±15-minute signature window.
func NewAuthenticator(store *Store, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{
		store:  store,
		now:    now,
		window: SignatureWindow,
		replay: newReplayCache(DefaultReplayCapacity),
	}
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
// signed and within the window, X-Sdk-Content-Sha256 (when present) must equal the SHA-256 of
// body, and a signature is accepted only once: it is remembered until its date leaves the
// window. Credentials that authenticate but do not grant projectID, or an X-Project-Id header
// naming another project, give CodeForbiddenProject.
func (a *Authenticator) Authorize(r *http.Request, projectID string, body []byte) error {
	if a.insecure {
		return nil
	}
	if a.store == nil {
		return authFailed("no credential store")
	}
	authz := r.Header.Values(HeaderAuthorization)
	tokens := r.Header.Values(HeaderAuthToken)
	if len(authz) > 1 || len(tokens) > 1 {
		return authFailed("repeated credential header")
	}
	var grant string
	switch {
	case len(authz) == 1 && len(tokens) == 1:
		return authFailed("both X-Auth-Token and Authorization present")
	case len(tokens) == 1:
		p, ok := a.store.load().tokens[sha256.Sum256([]byte(tokens[0]))]
		if !ok {
			return authFailed("unknown token")
		}
		grant = p
	case len(authz) == 1:
		var err error
		if grant, err = a.verifyAKSK(r, authz[0], body); err != nil {
			return err
		}
	default:
		return authFailed("no credentials")
	}

	if pids := r.Header.Values(HeaderProjectID); len(pids) > 0 {
		if len(pids) > 1 {
			return forbidden("repeated X-Project-Id")
		}
		if pids[0] != projectID {
			return forbidden("X-Project-Id " + strconv.Quote(pids[0]) + " differs from the path's project")
		}
	}
	if grant != AllProjects && grant != projectID {
		return forbidden("credentials grant project " + grant + ", not " + strconv.Quote(projectID))
	}
	return nil
}

// verifyAKSK verifies an SDK-HMAC-SHA256 request and returns the project its key grants.
func (a *Authenticator) verifyAKSK(r *http.Request, authz string, body []byte) (string, error) {
	ak, signed, sigHex, err := ParseAuthorization(authz)
	if err != nil {
		return "", authFailed("malformed Authorization: " + err.Error())
	}
	hasDate := false
	for _, h := range signed {
		if h == "x-sdk-date" {
			hasDate = true
			break
		}
	}
	if !hasDate {
		return "", authFailed("X-Sdk-Date is not a signed header")
	}
	dates := r.Header.Values(HeaderSdkDate)
	if len(dates) != 1 {
		return "", authFailed("missing or repeated X-Sdk-Date")
	}
	date := strings.TrimSpace(dates[0])
	t, err := time.Parse(SignDateLayout, date)
	if err != nil || len(date) != len(SignDateLayout) {
		return "", authFailed("malformed X-Sdk-Date")
	}
	now := a.now()
	if d := now.Sub(t); d > a.window || d < -a.window {
		return "", authFailed("X-Sdk-Date outside the window")
	}
	entry, ok := a.store.load().aks[ak]
	if !ok {
		return "", authFailed("unknown access key " + ak)
	}
	payload, err := payloadHash(r.Header, body)
	if err != nil {
		return "", authFailed(err.Error())
	}
	if _, ok := r.Header[http.CanonicalHeaderKey(HeaderContentSha256)]; ok {
		sum := sha256.Sum256(body)
		var want [64]byte
		hex.Encode(want[:], sum[:])
		if payload != string(want[:]) {
			return "", authFailed(HeaderContentSha256 + " does not match the body")
		}
	}
	var buf [1024]byte
	cr, err := appendCanonicalRequest(buf[:0], r, r.Host, signed, payload)
	if err != nil {
		return "", authFailed("bad query: " + err.Error())
	}
	want := signature(entry.SK, date, cr)
	var got [32]byte
	if _, err := hex.Decode(got[:], []byte(sigHex)); err != nil {
		return "", authFailed("malformed signature")
	}
	if !hmac.Equal(got[:], want[:]) {
		return "", authFailed("signature mismatch for access key " + ak)
	}
	if !a.replay.add(got, t.Add(a.window), now) {
		return "", authFailed("replayed signature (or replay cache full) for access key " + ak)
	}
	return entry.ProjectID, nil
}

// replayCache remembers accepted signatures until they expire. Expired entries are pruned
// from a min-heap of expiry times on every insertion; the map is bounded by capacity, and a
// full cache refuses new signatures rather than forgetting live ones. horizon is the latest
// pruning time: a signature that expires before it is refused even if the clock moved back,
// since it might have been pruned.
type replayCache struct {
	mu      sync.Mutex
	seen    map[[32]byte]int64
	exp     expHeap
	cap     int
	horizon int64
}

func newReplayCache(capacity int) *replayCache {
	return &replayCache{seen: make(map[[32]byte]int64), cap: capacity}
}

// add records sig, valid until expiry, and reports whether it was new (and fit).
func (c *replayCache) add(sig [32]byte, expiry, now time.Time) bool {
	e, n := expiry.UnixNano(), now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.horizon {
		c.horizon = n
	}
	for len(c.exp) > 0 && c.exp[0].exp < c.horizon {
		old := heap.Pop(&c.exp).(expEntry)
		if c.seen[old.sig] == old.exp {
			delete(c.seen, old.sig)
		}
	}
	if e < c.horizon {
		return false
	}
	if _, dup := c.seen[sig]; dup {
		return false
	}
	if len(c.seen) >= c.cap {
		return false
	}
	c.seen[sig] = e
	heap.Push(&c.exp, expEntry{exp: e, sig: sig})
	return true
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

type expEntry struct {
	exp int64
	sig [32]byte
}

type expHeap []expEntry

func (h expHeap) Len() int           { return len(h) }
func (h expHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expHeap) Push(x any)        { *h = append(*h, x.(expEntry)) }
func (h *expHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
