package ingest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/engine"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/internal/workload"
	"github.com/recordusage/recordusage/results"
)

// TestCrashRecovery is the kill -9 test of CONTRACT.md §7 on the real broker, with the defaults a
// user runs with (checkpoints every 10 s, the default session timeout) and the crash points that
// hurt (docs/reliability.md):
//   - instance 1 reads part 1 of the workload while caught up, so it extends open recordings to
//     the wall clock and publishes hours they never ran in, and is killed before its first
//     periodic checkpoint;
//   - part 2, with the stops of those recordings, is produced while no instance runs;
//   - instance 2 is killed within two seconds, before the group has given it a partition;
//   - instance 3 is killed at a random point after it got its partitions, published and maybe
//     checkpointed; parts 3 and 4 follow, and instance 4 is killed within its first seconds;
//   - instance 5 runs to the end.
//
// Then every hour of every project and domain, from before the first event to the current hour,
// zeros included, must equal the reference model, and a value is final exactly when its
// partition's watermark says so.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the ingest binary")
	}
	brokers, real := kafkatest.Brokers(t)
	if !real {
		// The embedded broker's group coordinator waits out the rebalance timeout for a killed
		// member, so this test would take minutes; it is a test of the real broker anyway.
		t.Skip("needs the real broker (RECORD_TEST_BROKERS; see scripts/kafka/kafka.sh)")
	}
	bin := filepath.Join(t.TempDir(), "ingest")
	build := exec.Command("go", "build", "-o", bin, "../cmd/ingest")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	// The binary uses the real wall clock: the workload ends ten minutes ago, so that the open
	// recordings of part 1 are extended over hours of data.
	end := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	msgs, good := workload.Generate(workload.Options{Seed: 8, Projects: 24, Events: 8_000, Span: 30 * time.Hour,
		End: end, MaxDelay: 30 * time.Minute, DupShare: 0.03, BadShare: 0.01})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cfg := testConfig(brokers, end)
	args := []string{"--brokers", strings.Join(brokers, ","), "--topic", cfg.Topic, "--group", cfg.Group,
		"--results-topic", cfg.ResultsTopic, "--checkpoint-topic", cfg.CheckpointTopic, "--dlq-topic", cfg.DLQTopic,
		"--partitions", "6", "--http", "127.0.0.1:0", "--log-level", "warn"} // default intervals and timeouts
	var cmd *exec.Cmd
	start := func(extra ...string) time.Time {
		cmd = exec.Command(bin, append(args, extra...)...)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		return time.Now()
	}
	kill := func(what string, started time.Time) {
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		t.Logf("killed %s, %v after its start", what, time.Since(started).Round(10*time.Millisecond))
	}
	// The first kill is meant to come before the first periodic checkpoint (10 s after the
	// partitions are restored); on a loaded machine it may come later, which the log says.
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	r := rand.New(rand.NewPCG(8, 8))
	q := len(msgs) / 4
	parts := [][]workload.Message{msgs[:q], msgs[q : 2*q], msgs[2*q : 3*q], msgs[3*q:]}

	started := start()
	require.NoError(t, waitFor(ctx, func() bool {
		_, err := kafkax.Plain(brokers...).WaitPartitions(ctx, cfg.Topic)
		return err == nil
	}))
	produce(t, ctx, cfg, parts[0])
	// Caught up: part 1 is published, open recordings extended to now.
	require.NoError(t, waitFor(ctx, func() bool { return len(readTopic(t, ctx, cfg)) > 0 }))
	kill("instance 1 (caught up after part 1, published; a periodic checkpoint comes 10 s after its start)", started)
	produce(t, ctx, cfg, parts[1])

	started = start()
	time.Sleep(time.Duration(500+r.IntN(1500)) * time.Millisecond) // a random point, not synchronisation
	kill("instance 2 (before the session of instance 1 expired: no assignment)", started)

	started = start()
	time.Sleep(time.Duration(12_000+r.IntN(8_000)) * time.Millisecond)
	kill("instance 3 (assigned, published, between checkpoints)", started)
	produce(t, ctx, cfg, parts[2])
	produce(t, ctx, cfg, parts[3])

	started = start()
	time.Sleep(time.Duration(11_000+r.IntN(3_000)) * time.Millisecond)
	kill("instance 4 (in its first seconds with partitions)", started)

	addr := freeAddr(t)
	restarted := start("--http", addr)
	requireTopicExact(t, ctx, cfg, good, end)
	t.Logf("every hour exact %v after the last restart", time.Since(restarted).Round(10*time.Millisecond))
	// The last instance has its partitions and has finished recovering: the results stay exact.
	require.NoError(t, waitFor(ctx, func() bool {
		return httpOK("http://"+addr+"/readyz") && metricValue("http://"+addr+"/metrics", "recordusage_partitions_recovering") == "0" &&
			metricValue("http://"+addr+"/metrics", "recordusage_recoveries_total") != "0"
	}))
	t.Logf("recovery: the last instance reconciled %v after its start (includes the group's session timeout)",
		time.Since(restarted).Round(10*time.Millisecond))
	requireTopicExact(t, ctx, cfg, good, end)
	require.Equal(t, len(msgs)-len(good), countDLQ(t, ctx, cfg), "every bad message is dead-lettered")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "SIGTERM: checkpoint, commit and a clean exit")
	requireTopicExact(t, ctx, cfg, good, end)
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func httpOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// metricValue returns the value of an unlabelled metric from a /metrics page, or "".
func metricValue(url, name string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// readTopic materializes the results topic as query does: the last record of every key, a
// tombstone deleting it.
func readTopic(t *testing.T, ctx context.Context, cfg Config) map[reference.SeriesHour]results.Record {
	t.Helper()
	kc := kafkax.Plain(cfg.Brokers...)
	n, err := kc.WaitPartitions(ctx, cfg.ResultsTopic)
	require.NoError(t, err)
	out := map[reference.SeriesHour]results.Record{}
	for p := range n {
		require.NoError(t, kc.ReadAll(ctx, cfg.ResultsTopic, p, func(m kafka.Message) error {
			rec, err := results.Decode(m.Key, m.Value)
			if err != nil {
				return err
			}
			k := reference.Key(rec.ProjectID, rec.Domain, rec.Hour)
			if rec.Tombstone {
				delete(out, k)
			} else {
				out[k] = rec
			}
			return nil
		}))
	}
	return out
}

// requireTopicExact waits until every hour of every series, from two hours before the first
// event to the current hour, zeros included, equals the reference model, and then checks the
// final flags against each partition's watermark. It fails with the first differing hour.
func requireTopicExact(t *testing.T, ctx context.Context, cfg Config, good []reference.Event, end time.Time) {
	t.Helper()
	want := reference.Hours(good, 1<<40) // every session of the workload is closed
	series := map[[2]string]bool{}
	first := end.Unix()
	for _, e := range good {
		if e.Type.Opens() || e.Type.Closes() {
			series[[2]string{e.Project, ""}] = true
			series[[2]string{e.Project, e.Domain}] = true
			first = min(first, e.Time/1e9)
		}
	}
	first = first - first%3600 - 2*3600
	var got map[reference.SeriesHour]results.Record
	diff := func() string {
		last := time.Now().Unix()
		for k := range got {
			series[[2]string{k.Project, k.Domain}] = true
		}
		for s := range series {
			for h := first; h <= last; h += 3600 {
				k := reference.Key(s[0], s[1], h)
				if w, r := want[k], got[k].Peak; w != r {
					return fmt.Sprintf("%s of %s/%q: want %d at minute %d, the topic has %d at minute %d",
						time.Unix(h, 0).UTC().Format(time.RFC3339), s[0], s[1], w.Count, w.Minute, r.Count, r.Minute)
				}
			}
		}
		return ""
	}
	// Wait within a deadline of its own, so that the last read has time to finish and the
	// failure names the first differing hour.
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := waitFor(wctx, func() bool { got = readTopic(t, ctx, cfg); return diff() == "" }); err != nil {
		require.Empty(t, diff(), "hours differ from the reference model")
	}
	// A value is final exactly when its partition's watermark is past the hour's end plus the
	// correction horizon.
	maxTime := map[int]int64{}
	partitionOf := func(project string) int {
		return (&kafka.Hash{}).Balance(kafka.Message{Key: []byte(project)}, 0, 1, 2, 3, 4, 5)
	}
	for _, e := range good {
		p := partitionOf(e.Project)
		maxTime[p] = max(maxTime[p], e.Time)
	}
	ec := engine.DefaultConfig()
	for k, r := range got {
		// As the engine computes it: hours before the one holding watermark − horizon − 1ns.
		finalTo := (maxTime[partitionOf(k.Project)] - int64(ec.Lateness) - int64(ec.CorrectionHorizon) - 1) / int64(time.Hour)
		final := k.Hour/3600 < finalTo
		require.Equal(t, final, r.Final, "final flag of %s of %s/%s", time.Unix(k.Hour, 0).UTC(), k.Project, k.Domain)
	}
}
