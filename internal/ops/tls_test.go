package ops

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/tlstest"
)

func TestCertReloaderErrorsNameTheFile(t *testing.T) {
	ca := tlstest.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.WriteFiles(t, dir, 1)
	_, err := NewCertReloader(certFile, keyFile)
	require.NoError(t, err)

	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not PEM at all"), 0o600))
	_, err = NewCertReloader(garbage, keyFile)
	require.ErrorContains(t, err, "TLS certificate "+garbage+": no PEM block")
	_, err = NewCertReloader(certFile, garbage)
	require.ErrorContains(t, err, "TLS key "+garbage+": no PEM block")
	// The key in the certificate's place and the other way round.
	_, err = NewCertReloader(keyFile, certFile)
	require.ErrorContains(t, err, "TLS certificate "+keyFile)
	// A key that is not the certificate's.
	other := t.TempDir()
	_, otherKey := ca.WriteFiles(t, other, 2)
	_, err = NewCertReloader(certFile, otherKey)
	require.ErrorContains(t, err, certFile)
	require.ErrorContains(t, err, otherKey)
	_, err = NewCertReloader(filepath.Join(dir, "missing.crt"), keyFile)
	require.ErrorContains(t, err, "missing.crt")
}

// dialTLS opens a TLS connection that trusts only ca.
func dialTLS(t *testing.T, addr string, ca *tlstest.CA, maxVersion uint16) (*tls.Conn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	return tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1",
		MaxVersion: maxVersion, NextProtos: []string{"h2", "http/1.1"}})
}

func serialOf(c *tls.Conn) int64 {
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// get sends one request on c and returns the response.
func get(t *testing.T, c net.Conn, br *bufio.Reader) *http.Response {
	t.Helper()
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	return readResponse(t, br)
}

// TestTLSReload swaps the certificate files, calls Reload (what SIGHUP does) and checks that
// new connections get the new certificate while an open connection keeps working; a broken
// file keeps the certificate in use.
func TestTLSReload(t *testing.T) {
	ca := tlstest.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.WriteFiles(t, dir, 1)
	certs, err := NewCertReloader(certFile, keyFile)
	require.NoError(t, err)
	addr := start(t, ServerConfig{TLS: TLSConfig(certs), Refuse: (&refusals{}).refuse})

	old, err := dialTLS(t, addr, ca, 0)
	require.NoError(t, err)
	defer old.Close()
	require.EqualValues(t, 1, serialOf(old))
	require.Equal(t, "http/1.1", old.ConnectionState().NegotiatedProtocol, "HTTP/2 is not offered")
	oldBR := bufio.NewReader(old)
	resp := get(t, old, oldBR)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "true", resp.Header.Get("X-TLS"), "Request.TLS is filled")

	ca.WriteFiles(t, dir, 2)
	require.NoError(t, certs.Reload())
	require.EqualValues(t, 2, certs.Leaf().SerialNumber.Int64())
	c, err := dialTLS(t, addr, ca, 0)
	require.NoError(t, err)
	require.EqualValues(t, 2, serialOf(c))
	c.Close()
	// The connection opened before the reload is not dropped.
	require.Equal(t, 200, get(t, old, oldBR).StatusCode)

	// A broken file: the reload fails, naming it, and the server keeps serving certificate 2.
	require.NoError(t, os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n"), 0o600))
	require.ErrorContains(t, certs.Reload(), certFile)
	c, err = dialTLS(t, addr, ca, 0)
	require.NoError(t, err)
	require.EqualValues(t, 2, serialOf(c))
	c.Close()
}

func TestTLSMinimumVersion(t *testing.T) {
	ca := tlstest.NewCA(t)
	certs, err := NewCertReloader(ca.WriteFiles(t, t.TempDir(), 1))
	require.NoError(t, err)
	addr := start(t, ServerConfig{TLS: TLSConfig(certs), Refuse: (&refusals{}).refuse})
	_, err = dialTLS(t, addr, ca, tls.VersionTLS11)
	require.Error(t, err, "TLS 1.1 is refused")
	c, err := dialTLS(t, addr, ca, tls.VersionTLS12)
	require.NoError(t, err, "TLS 1.2 is accepted")
	require.Equal(t, uint16(tls.VersionTLS12), c.ConnectionState().Version)
	c.Close()
}

// TestTLSOwnReplies checks that net/http's own replies are replaced over TLS too, and that
// plain HTTP sent to the HTTPS port gets the service's 400 in plain text.
func TestTLSOwnReplies(t *testing.T) {
	ca := tlstest.NewCA(t)
	certs, err := NewCertReloader(ca.WriteFiles(t, t.TempDir(), 1))
	require.NoError(t, err)
	f := &refusals{}
	addr := start(t, ServerConfig{TLS: TLSConfig(certs), Refuse: f.refuse})

	c, err := dialTLS(t, addr, ca, 0)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n")
	require.NoError(t, err)
	resp := readResponse(t, bufio.NewReader(c))
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	resp = rawExchange(t, addr, "GET /v2/p/stats/record HTTP/1.1\r\nHost: x\r\n\r\n")
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "client sent an HTTP request to an HTTPS server", body["error_msg"])
	require.Equal(t, []string{"400 ", "400 client sent an HTTP request to an HTTPS server"}, f.list())

	// A client that is not speaking TLS nor HTTP gets nothing, and the server goes on.
	raw, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	io.WriteString(raw, strings.Repeat("\x00", 64))
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(raw)
	raw.Close()
	require.NotContains(t, string(out), "HTTP/1.1")
	c2, err := dialTLS(t, addr, ca, 0)
	require.NoError(t, err)
	require.Equal(t, 200, get(t, c2, bufio.NewReader(c2)).StatusCode)
	c2.Close()
}

// TestPlainRequestTLSIsNil checks that a plain-HTTP request through the wrapping listener has
// no Request.TLS.
func TestPlainRequestTLSIsNil(t *testing.T) {
	addr := start(t, ServerConfig{Refuse: (&refusals{}).refuse})
	resp := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "false", resp.Header.Get("X-TLS"))
}
