package kafkax_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
)

// TestEnsureTopics creates several missing topics in one go, each with its own partitions and
// configs, leaves an existing topic as it is (its partitions and configs are not those of the
// spec), returns every topic's number of partitions, and names the topic that cannot be
// created.
func TestEnsureTopics(t *testing.T) {
	brokers, real := kafkatest.Brokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := kafkax.Plain(brokers...)
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	existing := kafkax.TopicSpec{Name: "ensure-existing-" + id, Partitions: 2, ReplicationFactor: 1,
		Configs: map[string]string{"retention.ms": "3600000"}}
	require.NoError(t, c.EnsureTopics(ctx, existing))

	changed := existing
	changed.Partitions, changed.Configs = 4, map[string]string{"retention.ms": "60000"}
	compacted := kafkax.TopicSpec{Name: "ensure-compacted-" + id, Partitions: 3, ReplicationFactor: 1,
		Configs: map[string]string{"cleanup.policy": "compact", "max.message.bytes": "2097152"}}
	retained := kafkax.TopicSpec{Name: "ensure-retained-" + id, Partitions: 1, ReplicationFactor: 1,
		Configs: map[string]string{"retention.ms": "7200000"}}
	counts, err := c.EnsureTopicsPartitions(ctx, changed, compacted, retained)
	require.NoError(t, err)
	want := map[string]int{existing.Name: 2, compacted.Name: 3, retained.Name: 1}
	require.Equal(t, want, counts)
	for _, s := range []kafkax.TopicSpec{existing, compacted, retained} {
		got := topicConfigs(t, ctx, brokers, s.Name)
		for k, v := range s.Configs {
			require.Equal(t, v, got[k], "%s of %s", k, s.Name)
		}
	}
	// Each new topic is readable and writable at once: its leaders are there.
	for _, s := range []kafkax.TopicSpec{compacted, retained} {
		for p := range s.Partitions {
			_, _, err := c.Offsets(ctx, s.Name, p)
			require.NoError(t, err)
		}
	}

	// A restart: every topic exists; nothing changes.
	counts, err = c.EnsureTopicsPartitions(ctx, changed, compacted, retained)
	require.NoError(t, err)
	require.Equal(t, want, counts)

	if real { // the embedded broker accepts any replication factor
		good := kafkax.TopicSpec{Name: "ensure-good-" + id, Partitions: 1, ReplicationFactor: 1}
		bad := kafkax.TopicSpec{Name: "ensure-bad-" + id, Partitions: 1, ReplicationFactor: 100}
		_, err = c.EnsureTopicsPartitions(ctx, good, bad)
		require.ErrorContains(t, err, "create topic "+bad.Name+" (1 partitions, replication 100)")
		require.NotContains(t, err.Error(), good.Name)
	}
}

// topicConfigs returns the configs of a topic as the broker describes them.
func topicConfigs(t *testing.T, ctx context.Context, brokers []string, topic string) map[string]string {
	t.Helper()
	kc := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: &kafka.Transport{}}
	res, err := kc.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
		{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}}})
	require.NoError(t, err)
	require.Len(t, res.Resources, 1)
	require.NoError(t, res.Resources[0].Error)
	got := map[string]string{}
	for _, e := range res.Resources[0].ConfigEntries {
		got[e.ConfigName] = e.ConfigValue
	}
	return got
}

// TestTopicConfigs reads the effective configs of a topic with settings of its own and of one
// without (the broker's defaults).
func TestTopicConfigs(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	c := kafkax.Plain(brokers...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	own, plain := "configs-own-"+id, "configs-plain-"+id
	require.NoError(t, c.EnsureTopics(ctx,
		kafkax.TopicSpec{Name: own, Partitions: 1, ReplicationFactor: 1,
			Configs: map[string]string{"max.message.bytes": "2097152", "cleanup.policy": "compact"}},
		kafkax.TopicSpec{Name: plain, Partitions: 1, ReplicationFactor: 1}))
	got, err := c.TopicConfigs(ctx, []string{"max.message.bytes", "cleanup.policy"}, own, plain)
	require.NoError(t, err)
	require.Equal(t, map[string]map[string]string{
		own:   {"max.message.bytes": "2097152", "cleanup.policy": "compact"},
		plain: {"max.message.bytes": strconv.Itoa(kafkax.DefaultMaxMessageBytes), "cleanup.policy": "delete"},
	}, got)
	_, err = c.TopicConfigs(ctx, []string{"max.message.bytes"}, "configs-missing-"+id)
	require.Error(t, err, "a topic that does not exist")
}
