package kafkax

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// The SASL mechanisms a Security may name (CONTRACT.md §8).
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Security says how to reach a secured Kafka: TLS, SASL, or both. The zero value is plaintext
// without authentication, what the embedded broker and a local test broker speak.
type Security struct {
	// TLS encrypts every connection to the brokers.
	TLS bool
	// CAFile is a PEM file of the certificate authorities that sign the brokers' certificates;
	// empty trusts the system's roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for brokers that
	// authenticate clients by certificate (ssl.client.auth); both or neither.
	CertFile, KeyFile string
	// ServerName is the name the brokers' certificates must be valid for; empty is the host
	// of each broker address.
	ServerName string
	// InsecureSkipVerify accepts any broker certificate. It is for development only: anyone
	// on the path can then read and change the traffic, password included.
	InsecureSkipVerify bool

	// SASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty is no authentication.
	SASLMechanism string
	// SASLUser and SASLPassword are the SASL credentials.
	SASLUser     string
	SASLPassword Secret
}

// Secret is a string that formats and logs as "[redacted]", so that a configuration printed or
// logged whole never shows a password.
type Secret string

// Format writes "[redacted]" (or "" when empty) for every verb, %#v and %q included.
func (s Secret) Format(f fmt.State, _ rune) { f.Write([]byte(s.redacted())) }

// LogValue keeps the secret out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalText keeps the secret out of JSON and other text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

func (s Secret) redacted() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Validate reports the first inconsistent setting. It does not read the files.
func (s Security) Validate() error {
	tlsOption := s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" || s.ServerName != "" || s.InsecureSkipVerify
	switch {
	case tlsOption && !s.TLS:
		return errors.New("kafkax: a TLS option (CA, client certificate, server name, skip verify) is set but TLS is off")
	case (s.CertFile == "") != (s.KeyFile == ""):
		return errors.New("kafkax: a TLS client certificate needs both the certificate and the key file")
	}
	switch s.SASLMechanism {
	case "":
		if s.SASLUser != "" || s.SASLPassword != "" {
			return errors.New("kafkax: a SASL user or password is set but no SASL mechanism")
		}
		return nil
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
	default:
		return fmt.Errorf("kafkax: SASL mechanism %q: want %s, %s or %s", s.SASLMechanism,
			MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512)
	}
	switch {
	case s.SASLUser == "":
		return fmt.Errorf("kafkax: SASL %s needs a user", s.SASLMechanism)
	case s.SASLPassword == "":
		return fmt.Errorf("kafkax: SASL %s needs a password", s.SASLMechanism)
	}
	return nil
}

// Warnings returns what a safe deployment does not do, for the caller to log at start-up.
func (s Security) Warnings() []string {
	var w []string
	if s.InsecureSkipVerify {
		w = append(w, "Kafka TLS certificate verification is OFF (insecure skip verify): "+
			"anyone on the network path can impersonate the brokers and read the traffic; development only")
	}
	if s.SASLMechanism == MechanismPlain && !s.TLS {
		w = append(w, "SASL PLAIN without TLS sends the Kafka password in clear text")
	}
	return w
}

// LogValue describes the settings without the password.
func (s Security) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Bool("tls", s.TLS)}
	if s.TLS {
		attrs = append(attrs, slog.String("ca", s.CAFile), slog.String("cert", s.CertFile),
			slog.String("server_name", s.ServerName), slog.Bool("insecure_skip_verify", s.InsecureSkipVerify))
	}
	if s.SASLMechanism != "" {
		attrs = append(attrs, slog.String("sasl", s.SASLMechanism), slog.String("user", s.SASLUser))
	}
	return slog.GroupValue(attrs...)
}

// tlsConfig returns nil when TLS is off, else the client TLS configuration of s, with the CA
// and the client certificate read from their files.
func (s Security) tlsConfig() (*tls.Config, error) {
	if !s.TLS {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.ServerName, InsecureSkipVerify: s.InsecureSkipVerify}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafkax: read the TLS CA file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafkax: TLS CA file %s holds no PEM certificate", s.CAFile)
		}
	}
	if s.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafkax: load the TLS client certificate %s and key %s: %w", s.CertFile, s.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// mechanism returns nil when SASL is off, else the kafka-go SASL mechanism of s.
func (s Security) mechanism() (sasl.Mechanism, error) {
	var algo scram.Algorithm
	switch s.SASLMechanism {
	case "":
		return nil, nil
	case MechanismPlain:
		return plain.Mechanism{Username: s.SASLUser, Password: string(s.SASLPassword)}, nil
	case MechanismSCRAMSHA256:
		algo = scram.SHA256
	case MechanismSCRAMSHA512:
		algo = scram.SHA512
	default:
		return nil, fmt.Errorf("kafkax: unknown SASL mechanism %q", s.SASLMechanism)
	}
	m, err := scram.Mechanism(algo, s.SASLUser, string(s.SASLPassword))
	if err != nil {
		// The SCRAM library's error quotes the password when the password is the problem, so
		// it is not wrapped: the message says what is wrong without it.
		return nil, fmt.Errorf("kafkax: SASL %s for user %q: the user or the password holds characters "+
			"that SCRAM does not allow (SASLprep: control or unassigned characters)", s.SASLMechanism, s.SASLUser)
	}
	return m, nil
}
