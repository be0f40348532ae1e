package cli

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
)

// loadKafka parses args (and RECORD_* variables) like a command does and returns the Kafka
// security settings and what was logged.
func loadKafka(t *testing.T, args ...string) (kafkax.Security, string, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	k := RegisterKafkaSecurity(fs)
	if err := ParseWithEnv(fs, args); err != nil {
		return kafkax.Security{}, "", err
	}
	var logs bytes.Buffer
	sec, err := k.Load(slog.New(slog.NewJSONHandler(&logs, nil)))
	return sec, logs.String(), err
}

func passwordFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestKafkaSecurityFlags(t *testing.T) {
	sec, logs, err := loadKafka(t)
	require.NoError(t, err)
	require.Equal(t, kafkax.Security{}, sec, "no flags: plaintext")
	require.Empty(t, logs)

	sec, _, err = loadKafka(t, "--kafka-tls", "--kafka-tls-ca", "ca.pem", "--kafka-tls-cert", "c.pem",
		"--kafka-tls-key", "c.key", "--kafka-tls-server-name", "kafka.internal",
		"--kafka-sasl-mechanism", "scram-sha-512", "--kafka-sasl-user", "ingest",
		"--kafka-sasl-password-file", passwordFile(t, "s3cret\n"))
	require.NoError(t, err)
	require.Equal(t, kafkax.Security{TLS: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "c.key",
		ServerName: "kafka.internal", SASLMechanism: "SCRAM-SHA-512", SASLUser: "ingest", SASLPassword: "s3cret"}, sec,
		"the mechanism in any case; the file's final newline is not part of the password")
}

func TestKafkaSecurityFromEnv(t *testing.T) {
	t.Setenv("RECORD_KAFKA_TLS", "true")
	t.Setenv("RECORD_KAFKA_TLS_CA", "/etc/kafka/ca.pem")
	t.Setenv("RECORD_KAFKA_SASL_MECHANISM", "PLAIN")
	t.Setenv("RECORD_KAFKA_SASL_USER", "query")
	t.Setenv("RECORD_KAFKA_SASL_PASSWORD", "from env\r\n") // taken as it is
	sec, _, err := loadKafka(t)
	require.NoError(t, err)
	require.Equal(t, kafkax.Security{TLS: true, CAFile: "/etc/kafka/ca.pem", SASLMechanism: "PLAIN",
		SASLUser: "query", SASLPassword: "from env\r\n"}, sec)

	t.Setenv("RECORD_KAFKA_SASL_PASSWORD_FILE", passwordFile(t, "from file"))
	_, _, err = loadKafka(t)
	require.ErrorContains(t, err, "both RECORD_KAFKA_SASL_PASSWORD and --kafka-sasl-password-file are set")
}

func TestKafkaSecurityErrors(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		_, _, err := loadKafka(t, args...)
		require.ErrorContains(t, err, want)
	}
	pw := passwordFile(t, "pw")
	f("needs a user", "--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-password-file", pw)
	f("needs a password: set RECORD_KAFKA_SASL_PASSWORD or --kafka-sasl-password-file",
		"--kafka-sasl-mechanism", "SCRAM-SHA-256", "--kafka-sasl-user", "u")
	f("no SASL mechanism", "--kafka-sasl-user", "u")
	f("no SASL mechanism", "--kafka-sasl-password-file", pw)
	f(`SASL mechanism "GSSAPI"`, "--kafka-sasl-mechanism", "gssapi", "--kafka-sasl-user", "u", "--kafka-sasl-password-file", pw)
	f("both the certificate and the key", "--kafka-tls", "--kafka-tls-cert", "c.pem")
	f("TLS is off", "--kafka-tls-ca", "ca.pem")
	f("is empty", "--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-user", "u", "--kafka-sasl-password-file", passwordFile(t, "\n"))
	f("--kafka-sasl-password-file: open", "--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-user", "u",
		"--kafka-sasl-password-file", filepath.Join(t.TempDir(), "missing"))
	// There is no password flag: a password on the command line is visible to every user.
	f("flag provided but not defined: -kafka-sasl-password", "--kafka-sasl-password", "pw")
}

func TestKafkaSecurityWarnings(t *testing.T) {
	_, logs, err := loadKafka(t, "--kafka-tls", "--kafka-tls-insecure-skip-verify")
	require.NoError(t, err)
	require.Contains(t, logs, `"level":"WARN"`)
	require.Contains(t, logs, "insecure skip verify")
	_, logs, err = loadKafka(t, "--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-user", "u",
		"--kafka-sasl-password-file", passwordFile(t, "pw"))
	require.NoError(t, err)
	require.Contains(t, logs, "SASL PLAIN without TLS")
}

// TestKafkaPasswordNeverLogged loads settings whose password comes from the environment, then
// logs them and breaks them: neither the log nor an error shows the password.
func TestKafkaPasswordNeverLogged(t *testing.T) {
	const pw = "correct-horse-battery-staple"
	t.Setenv("RECORD_KAFKA_SASL_PASSWORD", pw)
	sec, logs, err := loadKafka(t, "--kafka-tls", "--kafka-tls-insecure-skip-verify",
		"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-user", "ingest")
	require.NoError(t, err)
	require.Equal(t, kafkax.Secret(pw), sec.SASLPassword)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "kafka", sec)
	require.NotContains(t, logs+buf.String(), pw)
	require.Contains(t, buf.String(), `"user":"ingest"`)

	_, _, err = loadKafka(t, "--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-tls-cert", "c.pem", "--kafka-tls")
	require.Error(t, err)
	require.NotContains(t, err.Error(), pw)
}
