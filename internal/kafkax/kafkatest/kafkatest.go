// Package kafkatest gives integration tests the brokers to run against: the test broker that
// scripts/kafka/kafka.sh starts (see its README), as the RECORD_TEST_* variables it prints name
// it — its PLAINTEXT listener, and its SASL_SSL listener with the CA, client certificate and
// credentials — or, for a fast local run, the embedded in-memory broker.
package kafkatest

import (
	"os"
	"testing"

	"github.com/recordusage/recordusage/internal/cli"
	"github.com/recordusage/recordusage/internal/kafkax"
)

// Brokers returns the real broker of RECORD_TEST_BROKERS (CI starts one with
// scripts/kafka/kafka.sh), or starts the embedded in-memory broker for a fast local run, which
// the test's cleanup stops. real says which.
func Brokers(t testing.TB) (brokers []string, real bool) {
	t.Helper()
	if b := cli.Split(os.Getenv("RECORD_TEST_BROKERS")); len(b) > 0 {
		return b, true
	}
	emb, err := kafkax.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the embedded broker: %v", err)
	}
	t.Cleanup(emb.Close)
	return []string{emb.Addr}, false
}

// Secure is the SASL_SSL listener of the test broker.
type Secure struct {
	Brokers   []string // RECORD_TEST_SECURE_BROKERS
	Plaintext []string // RECORD_TEST_BROKERS: the same broker's PLAINTEXT listener
	CAFile    string   // RECORD_TEST_KAFKA_CA: the CA that signed the broker's certificate
	// CertFile and KeyFile are a client certificate signed by the same CA
	// (RECORD_TEST_KAFKA_CLIENT_CERT, RECORD_TEST_KAFKA_CLIENT_KEY).
	CertFile, KeyFile string
	User              string        // RECORD_TEST_SASL_USER
	Password          kafkax.Secret // RECORD_TEST_SASL_PASSWORD
}

// SecureBroker returns the SASL_SSL listener of the environment. It skips the test when
// RECORD_TEST_SECURE_BROKERS is not set, except under CI=true, where it fails it: CI starts the
// broker (.ci/run), and a secured test that silently skips there would prove nothing.
func SecureBroker(t testing.TB) Secure {
	t.Helper()
	s := Secure{
		Brokers:   cli.Split(os.Getenv("RECORD_TEST_SECURE_BROKERS")),
		Plaintext: cli.Split(os.Getenv("RECORD_TEST_BROKERS")),
		CAFile:    os.Getenv("RECORD_TEST_KAFKA_CA"),
		CertFile:  os.Getenv("RECORD_TEST_KAFKA_CLIENT_CERT"),
		KeyFile:   os.Getenv("RECORD_TEST_KAFKA_CLIENT_KEY"),
		User:      os.Getenv("RECORD_TEST_SASL_USER"),
		Password:  kafkax.Secret(os.Getenv("RECORD_TEST_SASL_PASSWORD")),
	}
	complete := len(s.Brokers) > 0 && len(s.Plaintext) > 0 && s.CAFile != "" && s.User != "" && s.Password != ""
	switch {
	case complete:
		return s
	case os.Getenv("CI") == "true":
		t.Fatal("CI=true but RECORD_TEST_SECURE_BROKERS, RECORD_TEST_BROKERS, RECORD_TEST_KAFKA_CA, " +
			"RECORD_TEST_SASL_USER or RECORD_TEST_SASL_PASSWORD is not set: start the broker with " +
			`line="$(scripts/kafka/kafka.sh start)" && eval "$line"`)
	default:
		t.Skip("set RECORD_TEST_SECURE_BROKERS etc. (scripts/kafka/kafka.sh start prints them) to test a secured Kafka")
	}
	return Secure{}
}

// Security returns the settings for SASL mechanism over TLS, trusting the test CA.
func (s Secure) Security(mechanism string) kafkax.Security {
	return kafkax.Security{TLS: true, CAFile: s.CAFile, SASLMechanism: mechanism, SASLUser: s.User, SASLPassword: s.Password}
}
