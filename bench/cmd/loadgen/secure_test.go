package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/logbuf"
)

// TestSecuredKafka backfills an hour through the broker's SASL_SSL listener with the password
// from the environment, then checks that a wrong password stops the run at once with an error
// naming the broker and the cause.
func TestSecuredKafka(t *testing.T) {
	sb := kafkatest.SecureBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sec := sb.Security(kafkax.MechanismSCRAMSHA256)
	c, err := kafkax.NewClient(sb.Brokers, sec)
	require.NoError(t, err)
	topic := "loadgen-secure-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	require.NoError(t, c.EnsureTopics(ctx, kafkax.TopicSpec{Name: topic, Partitions: 2, ReplicationFactor: 1}))

	args := []string{"--brokers", strings.Join(sb.Brokers, ","), "--topic", topic, "--from", "1h",
		"--projects", "5", "--channels", "50", "--quiet",
		"--kafka-tls", "--kafka-tls-ca", sb.CAFile, "--kafka-sasl-mechanism", "SCRAM-SHA-256", "--kafka-sasl-user", sb.User}
	t.Setenv("RECORD_KAFKA_SASL_PASSWORD", string(sb.Password))
	require.NoError(t, run(ctx, args, io.Discard, io.Discard))
	sent := int64(0)
	for p := range 2 {
		first, next, err := c.Offsets(ctx, topic, p)
		require.NoError(t, err)
		sent += next - first
	}
	require.Positive(t, sent)

	t.Setenv("RECORD_KAFKA_SASL_PASSWORD", "wrong-password")
	var logs logbuf.Buffer // --quiet still logs warnings, and each retry is one
	err = run(ctx, args, io.Discard, &logs)
	require.ErrorContains(t, err, "kafka "+sb.Brokers[0]+`: SASL authentication failed (SCRAM-SHA-256, user "`+sb.User+`")`)
	require.NotContains(t, logs.String(), "retrying", "not retried")
}
