package kafkax_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/logbuf"
	"github.com/recordusage/recordusage/internal/tlstest"
)

// TestSecureRoundTrip creates a topic, writes and reads it back through the SASL_SSL listener
// with each mechanism, and once with a client certificate: the dialer, the transport and the
// reader of a Client all carry its TLS and SASL settings.
func TestSecureRoundTrip(t *testing.T) {
	sb := kafkatest.SecureBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	withCert := sb.Security(kafkax.MechanismSCRAMSHA256)
	withCert.CertFile, withCert.KeyFile = sb.CertFile, sb.KeyFile
	cases := map[string]kafkax.Security{
		"plain":              sb.Security(kafkax.MechanismPlain),
		"scram-sha-256":      sb.Security(kafkax.MechanismSCRAMSHA256),
		"scram-sha-512":      sb.Security(kafkax.MechanismSCRAMSHA512),
		"client-certificate": withCert,
	}
	for name, sec := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := kafkax.NewClient(sb.Brokers, sec)
			require.NoError(t, err)
			require.NoError(t, c.Preflight(ctx, nil))
			topic := "secure-" + name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			require.NoError(t, c.EnsureTopics(ctx, kafkax.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1}))
			w := c.Writer(topic, &kafka.Hash{})
			w.RequiredAcks, w.BatchTimeout = kafka.RequireAll, time.Millisecond
			require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("a")}, kafka.Message{Value: []byte("b")}))
			kafkax.CloseWriter(w)
			var got []string
			require.NoError(t, c.ReadAll(ctx, topic, 0, func(m kafka.Message) error {
				got = append(got, string(m.Value))
				return nil
			}))
			require.Equal(t, []string{"a", "b"}, got)
		})
	}
}

// TestPreflightErrors checks that each usual mistake fails at once with an error that names
// the broker, the cause and what to check, and never the password.
func TestPreflightErrors(t *testing.T) {
	sb := kafkatest.SecureBroker(t)
	secure, plain := sb.Brokers[0], sb.Plaintext[0]
	f := func(name string, broker string, sec kafkax.Security, want ...string) {
		t.Helper()
		c, err := kafkax.NewClient([]string{broker}, sec)
		require.NoError(t, err, name)
		// Not retried: Preflight logs each retry. (Not timed: on a loaded machine a broker
		// can take seconds to answer one handshake.)
		var logs logbuf.Buffer
		err = c.Preflight(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)))
		require.Error(t, err, name)
		t.Logf("%s: %v", name, err)
		require.NotContains(t, logs.String(), "retrying", "%s: not retried", name)
		require.ErrorContains(t, err, "kafka "+broker+": ", name)
		for _, w := range want {
			require.ErrorContains(t, err, w, name)
		}
		require.NotContains(t, err.Error(), string(sb.Password), name)
		require.NotContains(t, err.Error(), "wrong-password", name)
		var be *kafkax.BrokerError
		require.ErrorAs(t, err, &be, name)
	}
	wrong := sb.Security(kafkax.MechanismSCRAMSHA512)
	wrong.SASLPassword = "wrong-password"
	f("wrong password", secure, wrong,
		`SASL authentication failed (SCRAM-SHA-512, user "`+sb.User+`"): check the user and password`)
	wrong.SASLMechanism = kafkax.MechanismPlain
	f("wrong PLAIN password", secure, wrong, `SASL authentication failed (PLAIN, user "`+sb.User+`")`)

	unknownCA := sb.Security(kafkax.MechanismSCRAMSHA512)
	unknownCA.CAFile = otherCA(t)
	f("unknown CA", secure, unknownCA,
		"TLS handshake: certificate signed by unknown authority: check --kafka-tls-ca")
	systemRoots := sb.Security(kafkax.MechanismSCRAMSHA512)
	systemRoots.CAFile = ""
	f("system roots", secure, systemRoots, "certificate signed by unknown authority: set --kafka-tls-ca")
	otherName := sb.Security(kafkax.MechanismSCRAMSHA512)
	otherName.ServerName = "kafka.example.com"
	f("server name", secure, otherName, "TLS handshake: ", "kafka.example.com", "--kafka-tls-server-name")

	f("TLS to the plaintext port", plain, sb.Security(kafkax.MechanismSCRAMSHA512),
		"TLS handshake: the broker closed the connection: is this a plaintext port?")
	noTLS := sb.Security(kafkax.MechanismSCRAMSHA512)
	noTLS.TLS, noTLS.CAFile = false, ""
	f("plaintext to the TLS port", secure, noTLS, "the broker closed the connection", "--kafka-tls")
	f("no SASL", secure, kafkax.Security{TLS: true, CAFile: sb.CAFile}, "the broker closed the connection",
		"does this listener require SASL (--kafka-sasl-mechanism)?")
}

// TestPreflightUnreachable checks that a broker that is not there is retried (it may be
// starting) until the context ends, and then named with the cause.
func TestPreflightUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close() // a port nobody listens on
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var logs logbuf.Buffer
	err = kafkax.Plain(addr).Preflight(ctx, slog.New(slog.NewTextHandler(&logs, nil)))
	require.ErrorContains(t, err, "kafka "+addr+": connection refused: is the broker running")
	require.Contains(t, logs.String(), "retrying", "each retry is logged (TestPreflightErrors relies on it)")
}

// otherCA writes the certificate of a CA that signed nothing the broker has.
func otherCA(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "other-ca.pem")
	require.NoError(t, os.WriteFile(path, tlstest.NewCA(t).PEM, 0o600))
	return path
}
