package kafkax

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// DefaultMaxMessageBytes is Kafka's default max.message.bytes (message.max.bytes of the broker):
// the largest record batch a topic accepts when nothing else is set.
const DefaultMaxMessageBytes = 1048588

// TopicConfigs returns the effective values of the named configs of each topic (the topic's own
// setting, else the broker's), in one DescribeConfigs request. Every name must come back for
// every topic.
func (c Client) TopicConfigs(ctx context.Context, names []string, topics ...string) (map[string]map[string]string, error) {
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range topics {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: names})
	}
	kc := &kafka.Client{Addr: kafka.TCP(c.brokers...), Transport: c.Transport(), Timeout: dialTimeout}
	resp, err := kc.DescribeConfigs(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("kafkax: read the configs %v of topics %v: %w", names, topics, err)
	}
	out := make(map[string]map[string]string, len(topics))
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("kafkax: read the configs of topic %s: %w", r.ResourceName, r.Error)
		}
		m := map[string]string{}
		for _, e := range r.ConfigEntries {
			m[e.ConfigName] = e.ConfigValue
		}
		out[r.ResourceName] = m
	}
	for _, t := range topics {
		for _, n := range names {
			if _, ok := out[t][n]; !ok {
				return nil, fmt.Errorf("kafkax: the broker did not say the %s of topic %s", n, t)
			}
		}
	}
	return out, nil
}
