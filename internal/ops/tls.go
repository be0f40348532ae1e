package ops

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// TLSConfig returns the server TLS configuration of the query API: TLS 1.2 at least (TLS 1.0
// and 1.1 are deprecated by RFC 8996), Go's default cipher suites, HTTP/1.1 over ALPN (see
// conn.go for why not HTTP/2), and the certificate of certs, read anew for every handshake so
// that a reload takes effect without a restart and without closing a connection.
func TLSConfig(certs *CertReloader) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: certs.GetCertificate,
	}
}

// CertReloader holds a certificate and its key, loaded from PEM files, and can reload them.
// Handshakes read the current certificate through an atomic pointer, so a reload never waits
// for or disturbs a handshake, and connections already open keep the session they have.
type CertReloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// NewCertReloader loads the certificate chain of certFile and the private key of keyFile. An
// error names the file at fault.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads both files again and, when they hold a valid certificate and matching key,
// swaps them in. On error the certificate in use is kept, and the error names the file at
// fault. It is meant to be called from a SIGHUP handler, after the files were replaced.
func (r *CertReloader) Reload() error {
	c, err := loadKeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cur.Store(c)
	return nil
}

// GetCertificate returns the current certificate, whatever the client asked for: the service
// has one name. It is the GetCertificate of tls.Config.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// Leaf returns the current leaf certificate, for logs and tests.
func (r *CertReloader) Leaf() *x509.Certificate { return r.cur.Load().Leaf }

// Files returns the certificate and key file names.
func (r *CertReloader) Files() (certFile, keyFile string) { return r.certFile, r.keyFile }

// loadKeyPair is tls.LoadX509KeyPair with errors that say which file is wrong: the standard
// one says "failed to find any PEM data in certificate input" without naming the file.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS key: %w", err)
	}
	if err := checkPEM(certPEM, "CERTIFICATE"); err != nil {
		return nil, fmt.Errorf("TLS certificate %s: %w", certFile, err)
	}
	if err := checkPEM(keyPEM, "PRIVATE KEY"); err != nil {
		return nil, fmt.Errorf("TLS key %s: %w", keyFile, err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// What is left: a certificate that does not parse, a key that does not parse, or a
		// key that is not the certificate's.
		return nil, fmt.Errorf("TLS certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return &c, nil
}

// checkPEM reports whether data holds a PEM block whose type ends with want ("CERTIFICATE";
// "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY").
func checkPEM(data []byte, want string) error {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return errors.New("no PEM block of type " + want)
		}
		if strings.HasSuffix(b.Type, want) {
			return nil
		}
	}
}
