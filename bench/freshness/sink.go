package freshness

import (
	"context"
	"sync/atomic"

	"github.com/recordusage/recordusage/bench/loadgen"
)

// countingSink counts the messages written through it.
type countingSink struct {
	loadgen.Sink
	n atomic.Int64
}

func (s *countingSink) Write(ctx context.Context, msgs []loadgen.Message) error {
	if err := s.Sink.Write(ctx, msgs); err != nil {
		return err
	}
	s.n.Add(int64(len(msgs)))
	return nil
}
