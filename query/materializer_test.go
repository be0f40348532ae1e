package query

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/promtest"
	"github.com/recordusage/recordusage/results"
)

const testTopic = "record-usage-hourly"

// now is the injected wall clock of the service tests.
var now = time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)

func startBroker(t *testing.T, partitions int) []string {
	t.Helper()
	emb, err := kafkax.StartEmbedded("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(emb.Close)
	brokers := []string{emb.Addr}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, kafkax.Plain(brokers...).EnsureTopics(ctx, kafkax.TopicSpec{Name: testTopic,
		Partitions: partitions, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}}))
	return brokers
}

func publish(t *testing.T, brokers []string, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: testTopic, Balancer: &kafka.Hash{},
		BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer kafkax.CloseWriter(w)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, w.WriteMessages(ctx, msgs...))
}

func result(project, domain, minute string, count uint32) kafka.Message {
	m, err := time.Parse(time.RFC3339, minute)
	if err != nil {
		panic(err)
	}
	h := m.Truncate(time.Hour)
	k, v := results.Encode(results.Record{ProjectID: project, Domain: domain, Hour: h.Unix(),
		Peak: results.Peak{Count: count, Minute: uint8(m.Sub(h) / time.Minute)}})
	return kafka.Message{Key: k, Value: v}
}

type service struct {
	mt      *Materializer
	handler http.Handler
	reg     *prometheus.Registry
}

func newService(t *testing.T, brokers []string) *service {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Brokers = brokers
	cfg.Now = func() time.Time { return now }
	store := NewStore()
	mt, err := NewMaterializer(cfg, store, nil, reg)
	require.NoError(t, err)
	srv, err := api.NewServer(api.ServerConfig{Auth: api.NewInsecureAuthenticator(), Source: store,
		Ready: mt.Ready, Now: func() time.Time { return now }, Registerer: reg})
	require.NoError(t, err)
	return &service{mt: mt, handler: srv, reg: reg}
}

func (s *service) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.mt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-s.mt.CaughtUp():
	case <-time.After(30 * time.Second):
		t.Fatal("the materializer did not catch up in 30s")
	}
}

type point struct {
	Time  string `json:"time"`
	Count uint32 `json:"concurrent_count"`
}

func (s *service) get(t *testing.T, target string) (int, []point) {
	t.Helper()
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
	if w.Code != http.StatusOK {
		return w.Code, nil
	}
	var body struct {
		List []point `json:"record_data_list"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	return w.Code, body.List
}

func TestServiceEndToEnd(t *testing.T) {
	brokers := startBroker(t, 3)
	publish(t, brokers,
		result("proj_a", "", "2026-11-25T07:12:00Z", 3),
		result("proj_a", "", "2026-11-25T08:40:00Z", 5),
		result("proj_a", "push.a.com", "2026-11-25T08:41:00Z", 4),
		result("proj_a", "pull.a.com", "2026-11-25T08:40:00Z", 1),
		result("proj_b", "", "2026-11-25T08:01:00Z", 50),
		// Two values for one key: the later one wins, a count of 0 included.
		result("proj_a", "", "2026-11-25T09:03:00Z", 7),
		result("proj_a", "", "2026-11-25T09:30:00Z", 6),
		result("proj_b", "", "2026-11-25T09:10:00Z", 8),
		result("proj_b", "", "2026-11-25T09:00:00Z", 0),
		// Bad records are skipped and counted.
		kafka.Message{Key: []byte("not json"), Value: []byte("{}")},
		kafka.Message{Key: []byte(`{"project_id":"proj_a","domain":"*","hour":"2026-11-25T07:00:00Z"}`), Value: []byte(`{"concurrent_count":-1}`)},
	)
	svc := newService(t, brokers)
	const q = "?start_time=2026-11-25T06:00:00Z&end_time=2026-11-25T10:00:00Z"
	code, _ := svc.get(t, "/v2/proj_a/stats/record"+q)
	require.Equal(t, http.StatusServiceUnavailable, code, "503 before caught up")

	svc.run(t)
	code, got := svc.get(t, "/v2/proj_a/stats/record"+q)
	require.Equal(t, 200, code)
	require.Equal(t, []point{
		{"2026-11-25T06:00:00Z", 0},
		{"2026-11-25T07:12:00Z", 3},
		{"2026-11-25T08:40:00Z", 5},
		{"2026-11-25T09:30:00Z", 6},
		{"2026-11-25T10:00:00Z", 0},
	}, got)
	_, got = svc.get(t, "/v2/proj_a/stats/record"+q+"&publish_domain=PUSH.a.com")
	require.Equal(t, []point{
		{"2026-11-25T06:00:00Z", 0}, {"2026-11-25T07:00:00Z", 0}, {"2026-11-25T08:41:00Z", 4},
		{"2026-11-25T09:00:00Z", 0}, {"2026-11-25T10:00:00Z", 0},
	}, got)
	_, got = svc.get(t, "/v2/proj_b/stats/record"+q)
	require.Equal(t, []point{
		{"2026-11-25T06:00:00Z", 0}, {"2026-11-25T07:00:00Z", 0}, {"2026-11-25T08:01:00Z", 50},
		{"2026-11-25T09:00:00Z", 0}, {"2026-11-25T10:00:00Z", 0},
	}, got)
	_, got = svc.get(t, "/v2/proj_c/stats/record")
	require.Len(t, got, 24, "an unknown project has 24 zero points")
	for _, p := range got {
		require.Zero(t, p.Count)
	}
	require.Equal(t, 2.0, promtest.Sum(t, svc.reg, "recordusage_query_bad_records_total"))
	require.Equal(t, 9.0, promtest.Sum(t, svc.reg, "recordusage_query_records_total"))
	require.Equal(t, 1.0, promtest.Sum(t, svc.reg, "recordusage_query_caught_up"))

	// Tailing: a correction published after start-up replaces the value.
	publish(t, brokers, result("proj_a", "", "2026-11-25T10:05:00Z", 2), result("proj_a", "", "2026-11-25T07:59:00Z", 9))
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, got = svc.get(t, "/v2/proj_a/stats/record"+q)
		if got[1].Count == 9 && got[4].Count == 2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the correction did not arrive: %v", got)
		time.Sleep(20 * time.Millisecond) // polling the materialized state, bounded by the deadline
	}
	require.Equal(t, point{"2026-11-25T07:59:00Z", 9}, got[1])
	require.Equal(t, point{"2026-11-25T10:05:00Z", 2}, got[4])
}

func TestServiceEmptyTopicIsReady(t *testing.T) {
	brokers := startBroker(t, 2)
	svc := newService(t, brokers)
	require.False(t, svc.mt.Ready())
	svc.run(t)
	code, got := svc.get(t, "/v2/proj_a/stats/record")
	require.Equal(t, 200, code)
	require.Len(t, got, 24)
}

// TestSplitSeries: records of one series naming two partitions of one input topic are reported
// once, as a metric; records naming one partition, none (older records), or another topic (a move
// to a new input), are not.
func TestSplitSeries(t *testing.T) {
	brokers := startBroker(t, 1)
	fromTopic := func(topic, p string, m kafka.Message) kafka.Message {
		m.Headers = []kafka.Header{{Key: results.SourceHeader, Value: []byte(topic + "/" + p)}}
		return m
	}
	from := func(p string, m kafka.Message) kafka.Message { return fromTopic("record-events", p, m) }
	publish(t, brokers,
		from("1", result("proj_a", "", "2026-11-25T07:12:00Z", 3)),
		from("1", result("proj_a", "push.a.com", "2026-11-25T07:12:00Z", 3)),
		from("1", result("proj_a", "", "2026-11-25T08:12:00Z", 2)),
		from("4", result("proj_a", "", "2026-11-25T09:12:00Z", 1)), // split
		from("1", result("proj_a", "", "2026-11-25T10:12:00Z", 1)), // the same split: reported once
		from("1", result("proj_a", "push.a.com", "2026-11-25T08:12:00Z", 3)),
		from("2", result("proj_b", "", "2026-11-25T07:12:00Z", 3)),
		result("proj_b", "", "2026-11-25T08:12:00Z", 3), // no header: an older record
		from("2", result("proj_b", "", "2026-11-25T09:12:00Z", 3)),
		from("x", result("proj_b", "", "2026-11-25T10:12:00Z", 3)), // not a partition: ignored
		// A move to a new input topic with more partitions: not a split.
		fromTopic("record-events-v2", "7", result("proj_b", "", "2026-11-25T11:12:00Z", 3)),
		fromTopic("record-events-v2", "7", result("proj_b", "", "2026-11-25T12:12:00Z", 3)),
	)
	svc := newService(t, brokers)
	svc.run(t)
	require.Equal(t, 12.0, promtest.Sum(t, svc.reg, "recordusage_query_records_total"))
	require.Equal(t, 1.0, promtest.Sum(t, svc.reg, "recordusage_query_split_series_total"))
}
