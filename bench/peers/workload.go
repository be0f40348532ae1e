package peers

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/internal/workload"
)

// Workload is the generated input: the messages in delivery order, the good events for the
// reference model, and the hours a comparison covers.
type Workload struct {
	Msgs  []workload.Message
	Good  []reference.Event
	Range Range
	// Bad is the number of messages that must be dead-lettered.
	Bad int
}

// Generate builds the workload of cfg, ending at end (truncated to the minute).
func Generate(cfg Config, end time.Time) Workload {
	end = end.UTC().Truncate(time.Minute)
	msgs, good := workload.Generate(workload.Options{Seed: cfg.Seed, Projects: cfg.Projects, Events: cfg.Events,
		Span: cfg.Span, End: end, MaxDelay: cfg.MaxDelay, DupShare: cfg.DupShare, BadShare: cfg.BadShare})
	w := Workload{Msgs: msgs, Good: good}
	for _, m := range msgs {
		if !m.Good {
			w.Bad++
		}
	}
	seen := map[Series]bool{}
	for _, e := range good {
		for _, s := range []Series{{e.Project, ""}, {e.Project, e.Domain}} {
			if !seen[s] {
				seen[s] = true
				w.Range.Series = append(w.Range.Series, s)
			}
		}
	}
	start := end.Add(-cfg.Span)
	w.Range.First = start.Truncate(time.Hour).Unix()
	w.Range.Last = end.Truncate(time.Hour).Unix()
	return w
}

// WriteFile writes the message values to path, one a line in the order produced: the raw
// events as newline-delimited JSON, bad messages included (no value holds a newline: JSON
// escapes it). Keys are left out, as in a plain dump of the topic's values.
func (w Workload) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	for _, m := range w.Msgs {
		bw.Write(m.Value)
		if err := bw.WriteByte('\n'); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Produce writes the messages to topic (created with partitions if missing), keyed by project
// and partitioned by the hash of the key as every producer of record-events must, and returns
// once the broker has acknowledged all of them.
func (w Workload) Produce(ctx context.Context, kc kafkax.Client, topic string, partitions int) error {
	if err := kc.EnsureTopics(ctx, kafkax.TopicSpec{Name: topic, Partitions: partitions, ReplicationFactor: 1}); err != nil {
		return err
	}
	wr := kc.Writer(topic, &kafka.Hash{})
	wr.RequiredAcks, wr.BatchSize, wr.BatchTimeout, wr.BatchBytes = kafka.RequireAll, 10_000, 10*time.Millisecond, 1<<20
	defer kafkax.CloseWriter(wr)
	batch := make([]kafka.Message, 0, 50_000)
	for i, m := range w.Msgs {
		batch = append(batch, kafka.Message{Key: m.Key, Value: m.Value})
		if len(batch) == cap(batch) || i == len(w.Msgs)-1 {
			if err := wr.WriteMessages(ctx, batch...); err != nil {
				return fmt.Errorf("produce to %s: %w", topic, err)
			}
			batch = batch[:0]
		}
	}
	return nil
}
