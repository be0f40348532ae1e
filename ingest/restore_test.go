package ingest

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// TestNothingPublishedBeforeClaim checks the publication rule's first step with restore's write
// in flight (docs/reliability.md): a partition publishes nothing, and checkpoints nothing, until
// the checkpoint that says it may publish is acknowledged; when that write fails (the partition
// stopped), it never does. The loop has no service, results writer or engine: going past the
// wait would panic.
func TestNothingPublishedBeforeClaim(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pl := &partitionLoop{claim: make(chan error, 1)}
		done := make(chan error, 1)
		go func() { done <- pl.flush(context.Background()) }()
		synctest.Wait() // the flush is blocked on the claim
		select {
		case err := <-done:
			t.Fatalf("flush returned before the claim was acknowledged: %v", err)
		default:
		}
		stopped := errors.New("stopped")
		pl.claim <- stopped
		require.ErrorIs(t, <-done, stopped)
		require.ErrorIs(t, pl.flush(context.Background()), stopped, "every later flush fails too")
		pl.checkpointAs(context.Background(), true) // returns at once: nothing to checkpoint
	})
}
