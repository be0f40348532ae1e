package peers

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
)

// TestPipelineMatchesReference runs the pipeline half of the benchmark on a small workload,
// on the broker of RECORD_TEST_BROKERS or the embedded one, and checks it against the
// reference model: the harness's checks (store, API, dead letters) and its timeline. It runs
// once as a deployment's first start (ingest creates its topics) and once with the checkpoint
// and dead-letter topics existing (--topics-exist), where ingest must find and use them.
func TestPipelineMatchesReference(t *testing.T) {
	brokers, _ := kafkatest.Brokers(t)
	for _, exist := range []bool{false, true} {
		t.Run("topics exist "+strconv.FormatBool(exist), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Brokers, cfg.Projects, cfg.Events, cfg.Span, cfg.Timeout = brokers, 10, 5_000, 3*time.Hour, time.Minute
			cfg.TopicsExist = exist
			w := Generate(cfg, time.Now().Add(-10*time.Minute))
			want := ReferenceTable(w.Good, time.Now().Unix()/60)
			require.NotEmpty(t, want)
			ctx := context.Background()
			id := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
			topic := "peers-test-events-" + id
			require.NoError(t, w.Produce(ctx, kafkax.Plain(brokers...), topic, cfg.Partitions))
			res, err := RunPipeline(ctx, cfg, topic, id, w.Range, want)
			require.NoError(t, err)
			require.Positive(t, res.Total)
			require.Equal(t, w.Bad, res.DeadLetters)
			require.NotEmpty(t, res.Marks)
		})
	}
}
