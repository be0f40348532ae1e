package kafkax

import (
	"context"
	"fmt"
	"strconv"

	"github.com/segmentio/kafka-go"
)

// DefaultMaxMessageBytes is Kafka's default max.message.bytes (message.max.bytes of the broker):
// the largest record batch a topic accepts when nothing else is set.
const DefaultMaxMessageBytes = 1048588

// MaxMessageBytes returns the largest record batch each topic accepts (its effective
// max.message.bytes: the topic's own setting, else the broker's), in one DescribeConfigs request.
// A writer whose batches are larger fails every write of them, and retrying does not help.
func (c Client) MaxMessageBytes(ctx context.Context, topics ...string) (map[string]int, error) {
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range topics {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: []string{"max.message.bytes"}})
	}
	kc := &kafka.Client{Addr: kafka.TCP(c.brokers...), Transport: c.Transport(), Timeout: dialTimeout}
	resp, err := kc.DescribeConfigs(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("kafkax: read max.message.bytes of %v: %w", topics, err)
	}
	out := make(map[string]int, len(topics))
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("kafkax: read max.message.bytes of topic %s: %w", r.ResourceName, r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName != "max.message.bytes" {
				continue
			}
			n, err := strconv.Atoi(e.ConfigValue)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("kafkax: topic %s: max.message.bytes %q is not a positive number", r.ResourceName, e.ConfigValue)
			}
			out[r.ResourceName] = n
		}
	}
	for _, t := range topics {
		if _, ok := out[t]; !ok {
			return nil, fmt.Errorf("kafkax: the broker did not say the max.message.bytes of topic %s", t)
		}
	}
	return out, nil
}
