package kafkax

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

func TestTemporary(t *testing.T) {
	wrapped := func(errs ...error) error { return fmt.Errorf("kafkax: offsets of t/1: %w", errors.Join(errs...)) }
	require.True(t, temporary(wrapped(io.EOF, kafka.NotLeaderForPartition)), "not leader yet: retry")
	require.True(t, temporary(wrapped(kafka.LeaderNotAvailable)))
	require.False(t, temporary(wrapped(kafka.TopicAuthorizationFailed)), "not a code that goes away by itself")
	require.False(t, temporary(wrapped(io.EOF)))
}
