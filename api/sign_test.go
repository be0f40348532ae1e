package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const vectorSignature = "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"

// TestSignVector checks the contract's test vector, which is also the official SDK's.
func TestSignVector(t *testing.T) {
	want := "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=" + vectorSignature

	// A request without host: only X-Sdk-Date is signed.
	req := &http.Request{
		Method: "GET",
		URL:    &url.URL{Path: "/path", RawQuery: "limit=1"},
		Header: http.Header{"X-Sdk-Date": {"20060102T150405Z"}},
	}
	require.NoError(t, Sign(req, "AccessKey", "SecretKey", nil))
	require.Equal(t, want, req.Header.Get("Authorization"))
	cr, err := CanonicalRequest(req, []string{"x-sdk-date"}, nil)
	require.NoError(t, err)
	require.Equal(t, "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n"+
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", cr)

	// The same with a host, signing an explicit header list and an injected clock.
	req = httptest.NewRequest("GET", "http://example.huaweicloud.com/path?limit=1", nil)
	s := Signer{AK: "AccessKey", SK: "SecretKey", SignedHeaders: []string{"X-Sdk-Date"},
		Now: func() time.Time { return time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC) }}
	require.NoError(t, s.Sign(req, []byte{}))
	require.Equal(t, "20060102T150405Z", req.Header.Get("X-Sdk-Date"))
	require.Equal(t, want, req.Header.Get("Authorization"))

	// And the verifier accepts it.
	store := newTestStore(t, &Credentials{AccessKeys: []AccessKeyEntry{{AK: "AccessKey", SK: "SecretKey", ProjectID: "*"}}})
	a := NewAuthenticator(store, fixedClock(time.Date(2006, 1, 2, 15, 10, 0, 0, time.UTC)))
	require.NoError(t, a.Authorize(req, "any", nil))
}

func TestSignDefaultHeaders(t *testing.T) {
	req := httptest.NewRequest("POST", "http://live.example.com:8443/v2/p/stats/record?b=2&a=1&a=0", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Project-Id", "p")
	req.Header.Set("TEST_UNDERSCORE", "x")
	req.Header.Set("Connection", "close")
	s := Signer{AK: "ak", SK: "sk", Now: fixedClock(testNow)}
	require.NoError(t, s.Sign(req, []byte("{}")))
	ak, signed, sig, err := ParseAuthorization(req.Header.Get("Authorization"))
	require.NoError(t, err)
	require.Equal(t, "ak", ak)
	require.Equal(t, []string{"content-type", "host", "x-project-id", "x-sdk-date"}, signed)
	require.Len(t, sig, 64)
	require.Equal(t, testNow.Format(SignDateLayout), req.Header.Get("X-Sdk-Date"))
	cr, err := CanonicalRequest(req, signed, []byte("{}"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(cr, "POST\n/v2/p/stats/record/\na=0&a=1&b=2\ncontent-type:application/json\nhost:live.example.com:8443\n"), cr)
}

func TestSignErrors(t *testing.T) {
	req := httptest.NewRequest("GET", "http://h/x", nil)
	require.Error(t, Sign(req, "", "sk", nil))
	require.Error(t, Sign(req, "a,b", "sk", nil))
	require.Error(t, Sign(req, "ak", "", nil))
	req = httptest.NewRequest("GET", "http://h/x?a=%zz", nil)
	require.Error(t, Sign(req, "ak", "sk", nil))
	req = httptest.NewRequest("GET", "http://h/x", nil)
	require.Error(t, (&Signer{AK: "ak", SK: "sk", SignedHeaders: []string{"bad header"}}).Sign(req, nil))
}

func TestCanonicalEscaping(t *testing.T) {
	req := &http.Request{Method: "GET", URL: &url.URL{Path: "/a b/é/~x_y.z-/%/+"}, Header: http.Header{}}
	req.URL.RawQuery = url.Values{"test": {"一 (&=?!#%.*)"}, "path": {"/tmp/123"}, "multi": {"3", "1", "2"}, "": {""}}.Encode()
	cr, err := CanonicalRequest(req, nil, nil)
	require.NoError(t, err)
	lines := strings.Split(cr, "\n")
	require.Equal(t, "/a%20b/%C3%A9/~x_y.z-/%25/%2B/", lines[1])
	require.Equal(t, "=&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29", lines[2])

	req.URL.Path = ""
	cr, err = CanonicalRequest(req, nil, nil)
	require.NoError(t, err)
	require.Equal(t, "/", strings.Split(cr, "\n")[1])
}

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	ak, sh, s, err := ParseAuthorization("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=" + sig)
	require.NoError(t, err)
	require.Equal(t, "AK1", ak)
	require.Equal(t, []string{"host", "x-sdk-date"}, sh)
	require.Equal(t, sig, s)

	// Other order, no or extra spaces.
	ak, sh, s, err = ParseAuthorization("SDK-HMAC-SHA256  Signature=" + sig + ",SignedHeaders=x-sdk-date ,\tAccess=AK1")
	require.NoError(t, err)
	require.Equal(t, "AK1", ak)
	require.Equal(t, []string{"x-sdk-date"}, sh)
	require.Equal(t, sig, s)

	bad := []string{
		"",
		"SDK-HMAC-SHA256",
		"SDK-HMAC-SHA256Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig,
		"Bearer abc",
		"sdk-hmac-sha256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date",
		"SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=A K, SignedHeaders=x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, Access=AK2, SignedHeaders=x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=X-Sdk-Date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=a;;b, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=a;a, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig[:62],
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig[:62] + "zz",
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig + ", Extra=1",
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig + ",",
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=" + strings.Repeat("a;", 64) + "b, Signature=" + sig,
	}
	for _, h := range bad {
		_, _, _, err := ParseAuthorization(h)
		require.Error(t, err, h)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	sig := strings.Repeat("0f", 32)
	f.Add("SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=" + vectorSignature)
	f.Add("SDK-HMAC-SHA256 Signature=" + sig + ",SignedHeaders=host;x-sdk-date,Access=A")
	f.Add("SDK-HMAC-SHA256 Access=A=B, SignedHeaders=a;b;c, Signature=" + strings.ToUpper(sig))
	f.Add("SDK-HMAC-SHA256 Access=A, SignedHeaders=a;;b, Signature=")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, h string) {
		ak, sh, s, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if !validAK(ak) || len(sh) == 0 || len(sh) > maxSignedHeaders || len(s) != 64 || !isHex(s) {
			t.Fatalf("accepted invalid parts %q %q %q", ak, sh, s)
		}
		ak2, sh2, s2, err := ParseAuthorization(FormatAuthorization(ak, sh, s))
		if err != nil {
			t.Fatalf("round trip of %q: %v", h, err)
		}
		if ak2 != ak || s2 != s || strings.Join(sh2, ";") != strings.Join(sh, ";") || len(sh2) != len(sh) {
			t.Fatalf("round trip of %q: %q %q %q", h, ak2, sh2, s2)
		}
	})
}
