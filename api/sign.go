package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Names and formats of the SDK-HMAC-SHA256 scheme of the Huawei Cloud API Gateway.
const (
	// SignAlgorithm is the scheme name that starts the Authorization header.
	SignAlgorithm = "SDK-HMAC-SHA256"
	// SignDateLayout is the format of the X-Sdk-Date header.
	SignDateLayout = "20060102T150405Z"
	// HeaderSdkDate carries the signing time; it must be a signed header.
	HeaderSdkDate = "X-Sdk-Date"
	// HeaderContentSha256 may carry the hex SHA-256 of the body in place of hashing the body.
	HeaderContentSha256 = "X-Sdk-Content-Sha256"
	// HeaderAuthToken carries a bearer token.
	HeaderAuthToken = "X-Auth-Token"
	// HeaderProjectID, when present, must name the path's project.
	HeaderProjectID = "X-Project-Id"
	// HeaderAuthorization carries the AK/SK signature.
	HeaderAuthorization = "Authorization"
)

// maxSignedHeaders bounds the SignedHeaders list of an Authorization header.
const maxSignedHeaders = 64

// Signer signs requests with the SDK-HMAC-SHA256 scheme. The zero Now means time.Now.
type Signer struct {
	// AK is the access key id.
	AK string
	// SK is the secret access key.
	SK string
	// Now supplies the signing time when the request has no valid X-Sdk-Date header.
	Now func() time.Time
	// SignedHeaders, when non-nil, lists the headers to sign (any case; x-sdk-date is always
	// added). When nil, the host (if known) and every header of the request are signed except
	// Authorization, hop-by-hop headers and names containing an underscore, which proxies such
	// as nginx drop by default.
	SignedHeaders []string
}

// Sign signs req with the access key ak and secret key sk, as the official Huawei Cloud SDKs
// do: it sets X-Sdk-Date to the current time unless the request already carries a valid one,
// then sets the Authorization header. body must be the exact body that will be sent (nil or
// empty for none); Sign does not read or modify req.Body.
func Sign(req *http.Request, ak, sk string, body []byte) error {
	s := Signer{AK: ak, SK: sk}
	return s.Sign(req, body)
}

var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-authenticate": true,
	"proxy-authorization": true, "te": true, "trailer": true, "transfer-encoding": true,
	"upgrade": true, "authorization": true,
}

// Sign signs req; see the package-level Sign.
func (s *Signer) Sign(req *http.Request, body []byte) error {
	if !validAK(s.AK) {
		return errors.New("api: sign: invalid access key")
	}
	if s.SK == "" {
		return errors.New("api: sign: empty secret key")
	}
	if req.URL == nil {
		return errors.New("api: sign: request without URL")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	date := req.Header.Get(HeaderSdkDate)
	if _, err := time.Parse(SignDateLayout, date); err != nil || len(date) != len(SignDateLayout) {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		date = now().UTC().Format(SignDateLayout)
		req.Header.Set(HeaderSdkDate, date)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}

	var signed []string
	if s.SignedHeaders != nil {
		for _, h := range s.SignedHeaders {
			signed = append(signed, strings.ToLower(h))
		}
		signed = append(signed, "x-sdk-date")
	} else {
		for k := range req.Header {
			l := strings.ToLower(k)
			if hopByHop[l] || strings.Contains(l, "_") {
				continue
			}
			signed = append(signed, l)
		}
		if host != "" {
			signed = append(signed, "host")
		}
	}
	slices.Sort(signed)
	signed = slices.Compact(signed)
	for _, h := range signed {
		if !validHeaderName(h) {
			return fmt.Errorf("api: sign: invalid header name %q", h)
		}
	}
	if len(signed) > maxSignedHeaders {
		return errors.New("api: sign: too many signed headers")
	}

	payload, err := payloadHash(req.Header, body)
	if err != nil {
		return err
	}
	cr, err := appendCanonicalRequest(nil, req, host, signed, payload)
	if err != nil {
		return fmt.Errorf("api: sign: %w", err)
	}
	sig := signature(s.SK, date, cr)
	req.Header.Set(HeaderAuthorization, FormatAuthorization(s.AK, signed, hex.EncodeToString(sig[:])))
	return nil
}

// payloadHash returns X-Sdk-Content-Sha256 when present, else the hex SHA-256 of body.
func payloadHash(h http.Header, body []byte) (string, error) {
	if v := h.Values(HeaderContentSha256); len(v) > 0 {
		if len(v) > 1 {
			return "", errors.New("repeated " + HeaderContentSha256)
		}
		return v[0], nil
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// signature returns HMAC-SHA256(sk, string to sign) for a canonical request.
func signature(sk, date string, canonical []byte) [32]byte {
	crHash := sha256.Sum256(canonical)
	var hexHash [64]byte
	hex.Encode(hexHash[:], crHash[:])
	m := hmac.New(sha256.New, []byte(sk))
	m.Write([]byte(SignAlgorithm + "\n"))
	m.Write([]byte(date))
	m.Write([]byte{'\n'})
	m.Write(hexHash[:])
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// CanonicalRequest returns the canonical request of r for the given signed header names
// (lower case, in signing order), taking the host from r.Host (or r.URL.Host when r.Host is
// empty) and the payload hash from X-Sdk-Content-Sha256 or body. It is exposed for debugging
// signature mismatches.
func CanonicalRequest(r *http.Request, signedHeaders []string, body []byte) (string, error) {
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	payload, err := payloadHash(r.Header, body)
	if err != nil {
		return "", err
	}
	b, err := appendCanonicalRequest(nil, r, host, signedHeaders, payload)
	return string(b), err
}

// appendCanonicalRequest appends the canonical request:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//
// where HEADERS is one "name:value\n" line per value of each signed header (values trimmed,
// then sorted; an absent header contributes no line), and "host" is taken from host.
func appendCanonicalRequest(dst []byte, r *http.Request, host string, signed []string, payload string) ([]byte, error) {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, r.URL.Path)
	dst = append(dst, '\n')
	var err error
	dst, err = appendCanonicalQuery(dst, r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	dst = append(dst, '\n')
	var vals []string
	for _, name := range signed {
		if name == "host" {
			dst = append(dst, "host:"...)
			dst = append(dst, strings.TrimSpace(host)...)
			dst = append(dst, '\n')
			continue
		}
		raw := r.Header[headerKey(name)]
		switch len(raw) {
		case 0:
			continue
		case 1:
			dst = append(dst, name...)
			dst = append(dst, ':')
			dst = append(dst, strings.TrimSpace(raw[0])...)
			dst = append(dst, '\n')
			continue
		}
		vals = vals[:0]
		for _, v := range raw {
			vals = append(vals, strings.TrimSpace(v))
		}
		slices.Sort(vals)
		for _, v := range vals {
			dst = append(dst, name...)
			dst = append(dst, ':')
			dst = append(dst, v...)
			dst = append(dst, '\n')
		}
	}
	dst = append(dst, '\n')
	for i, name := range signed {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, name...)
	}
	dst = append(dst, '\n')
	dst = append(dst, payload...)
	return dst, nil
}

// commonKeys maps the lower-case names of commonly signed headers to their canonical form,
// sparing an allocation per header in http.CanonicalHeaderKey.
var commonKeys = map[string]string{}

func init() {
	for _, k := range []string{"X-Sdk-Date", "Content-Type", "X-Project-Id", "X-Sdk-Content-Sha256",
		"Content-Length", "Accept", "User-Agent", "X-Auth-Token", "X-Request-Id", "Date"} {
		commonKeys[strings.ToLower(k)] = k
	}
}

// headerKey returns the http.Header key of a lower-case header name.
func headerKey(name string) string {
	if k, ok := commonKeys[name]; ok {
		return k
	}
	return http.CanonicalHeaderKey(name)
}

// appendCanonicalURI escapes each '/'-separated segment of the decoded path and makes sure the
// result ends in '/'.
func appendCanonicalURI(dst []byte, path string) []byte {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			dst = append(dst, '/')
		} else {
			dst = appendEscaped(dst, path[i:i+1])
		}
	}
	if len(dst) == 0 || dst[len(dst)-1] != '/' {
		dst = append(dst, '/')
	}
	return dst
}

// appendCanonicalQuery appends the parsed query sorted by key, then by value (both compared
// before escaping, as the SDK does), as escaped k=v pairs joined by '&'. A query that
// url.ParseQuery rejects (bad escape, semicolon) is an error, so that ignored parts of the raw
// query cannot escape the signature.
func appendCanonicalQuery(dst []byte, raw string) ([]byte, error) {
	if raw == "" {
		return dst, nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	first := true
	for _, k := range keys {
		vs := q[k]
		slices.Sort(vs)
		for _, v := range vs {
			if !first {
				dst = append(dst, '&')
			}
			first = false
			dst = appendEscaped(dst, k)
			dst = append(dst, '=')
			dst = appendEscaped(dst, v)
		}
	}
	return dst, nil
}

// appendEscaped percent-encodes every byte of s except the RFC 3986 unreserved characters
// A-Z a-z 0-9 - _ . ~, with upper-case hex digits.
func appendEscaped(dst []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

// FormatAuthorization returns the Authorization header value
// "SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<a;b>, Signature=<sig>".
func FormatAuthorization(ak string, signedHeaders []string, signature string) string {
	return SignAlgorithm + " Access=" + ak + ", SignedHeaders=" + strings.Join(signedHeaders, ";") +
		", Signature=" + signature
}

// ParseAuthorization parses an SDK-HMAC-SHA256 Authorization header value. The scheme name is
// followed by one or more spaces and the three parameters Access, SignedHeaders and Signature,
// each exactly once, in any order, separated by commas with optional spaces or tabs. The access
// key is 1 to 128 visible ASCII characters other than a comma; the signed header names are
// non-empty, lower-case HTTP tokens separated by ';', without duplicates, at most 64; the
// signature is 64 hexadecimal digits.
func ParseAuthorization(h string) (ak string, signedHeaders []string, signature string, err error) {
	rest, ok := strings.CutPrefix(h, SignAlgorithm)
	if !ok || rest == "" || rest[0] != ' ' {
		return "", nil, "", errors.New("not an " + SignAlgorithm + " authorization")
	}
	var haveAK, haveSH, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " \t")
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return "", nil, "", fmt.Errorf("malformed authorization parameter %q", part)
		}
		switch key {
		case "Access":
			if haveAK || !validAK(val) {
				return "", nil, "", errors.New("bad or repeated Access")
			}
			ak, haveAK = val, true
		case "SignedHeaders":
			if haveSH {
				return "", nil, "", errors.New("repeated SignedHeaders")
			}
			haveSH = true
			signedHeaders, err = parseSignedHeaders(val)
			if err != nil {
				return "", nil, "", err
			}
		case "Signature":
			if haveSig || len(val) != 64 || !isHex(val) {
				return "", nil, "", errors.New("bad or repeated Signature")
			}
			signature, haveSig = val, true
		default:
			return "", nil, "", fmt.Errorf("unknown authorization parameter %q", key)
		}
	}
	if !haveAK || !haveSH || !haveSig {
		return "", nil, "", errors.New("incomplete authorization")
	}
	return ak, signedHeaders, signature, nil
}

func parseSignedHeaders(v string) ([]string, error) {
	if v == "" {
		return nil, errors.New("empty SignedHeaders")
	}
	n := strings.Count(v, ";") + 1
	if n > maxSignedHeaders {
		return nil, errors.New("too many signed headers")
	}
	out := make([]string, 0, n)
	for name := range strings.SplitSeq(v, ";") {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("bad signed header name %q", name)
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("repeated signed header %q", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// validAK reports whether s can appear as Access= in an Authorization header.
func validAK(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return false
		}
	}
	return true
}

// validHeaderName reports whether s is a non-empty lower-case RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
