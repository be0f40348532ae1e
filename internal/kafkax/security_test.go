package kafkax

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecurityValidate(t *testing.T) {
	f := func(want string, s Security) {
		t.Helper()
		err := s.Validate()
		if want == "" {
			require.NoError(t, err)
			return
		}
		require.ErrorContains(t, err, want)
	}
	f("", Security{})
	f("", Security{TLS: true})
	f("", Security{TLS: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "c.key", ServerName: "kafka"})
	f("", Security{SASLMechanism: MechanismSCRAMSHA512, SASLUser: "u", SASLPassword: "p"})
	f("TLS is off", Security{CAFile: "ca.pem"})
	f("TLS is off", Security{InsecureSkipVerify: true})
	f("both the certificate and the key", Security{TLS: true, CertFile: "c.pem"})
	f("both the certificate and the key", Security{TLS: true, KeyFile: "c.key"})
	f("needs a user", Security{SASLMechanism: MechanismPlain, SASLPassword: "p"})
	f("needs a password", Security{SASLMechanism: MechanismSCRAMSHA256, SASLUser: "u"})
	f("no SASL mechanism", Security{SASLUser: "u"})
	f("no SASL mechanism", Security{SASLPassword: "p"})
	f(`SASL mechanism "GSSAPI"`, Security{SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: "p"})
}

func TestWarnings(t *testing.T) {
	require.Empty(t, Security{TLS: true, SASLMechanism: MechanismPlain}.Warnings())
	w := Security{TLS: true, InsecureSkipVerify: true}.Warnings()
	require.Len(t, w, 1)
	require.Contains(t, w[0], "verification is OFF")
	w = Security{SASLMechanism: MechanismPlain}.Warnings()
	require.Len(t, w, 1)
	require.Contains(t, w[0], "clear text")
}

// TestSecretNeverShown prints and logs a whole configuration every usual way: the password
// appears in none of them.
func TestSecretNeverShown(t *testing.T) {
	const pw = "hunter2-very-secret"
	s := Security{TLS: true, SASLMechanism: MechanismSCRAMSHA512, SASLUser: "ingest", SASLPassword: pw}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("config", "security", s, "password", s.SASLPassword)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "security", s, "struct", fmt.Sprintf("%+v", s))
	j, err := json.Marshal(s)
	require.NoError(t, err)
	for _, out := range []string{logs.String(), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s.SASLPassword, s.SASLPassword), string(j)} {
		require.NotContains(t, out, pw)
		require.Contains(t, out, "ingest", "the rest is shown")
	}
	require.Contains(t, logs.String(), "[redacted]")
	require.Equal(t, "", fmt.Sprint(Secret("")), "an empty secret shows as empty")
}

// TestSCRAMErrorHidesPassword: the SCRAM library quotes a password it cannot prepare.
func TestSCRAMErrorHidesPassword(t *testing.T) {
	pw := Secret("bad\u0007password") // a control character SASLprep refuses
	_, err := NewClient([]string{"k:9092"}, Security{SASLMechanism: MechanismSCRAMSHA256, SASLUser: "u", SASLPassword: pw})
	require.ErrorContains(t, err, "SASLprep")
	require.NotContains(t, err.Error(), "password\"")
	require.NotContains(t, err.Error(), string(pw))
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	_, err := NewClient([]string{"k:9093"}, Security{TLS: true, CAFile: notPEM})
	require.ErrorContains(t, err, "holds no PEM certificate")
	_, err = NewClient([]string{"k:9093"}, Security{TLS: true, CAFile: filepath.Join(dir, "missing.pem")})
	require.ErrorContains(t, err, "read the TLS CA file")
	_, err = NewClient([]string{"k:9093"}, Security{TLS: true, CertFile: notPEM, KeyFile: notPEM})
	require.ErrorContains(t, err, "load the TLS client certificate")
	c, err := NewClient([]string{"k:9093"}, Security{TLS: true, ServerName: "kafka"})
	require.NoError(t, err)
	require.Equal(t, "kafka", c.Dialer().TLS.ServerName)
	require.NotNil(t, c.Transport().TLS)
	require.Nil(t, Plain("k:9092").Dialer().TLS, "plaintext")
	require.NotSame(t, c.Transport(), c.Transport(), "a transport per writer")
}
