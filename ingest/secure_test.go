package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/recordusage/recordusage/api"
	"github.com/recordusage/recordusage/internal/kafkax"
	"github.com/recordusage/recordusage/internal/kafkax/kafkatest"
	"github.com/recordusage/recordusage/internal/reference"
	"github.com/recordusage/recordusage/internal/workload"
	"github.com/recordusage/recordusage/query"
	"github.com/recordusage/recordusage/window"
)

// TestSecuredPipeline runs the pipeline through the broker's SASL_SSL listener with
// SCRAM-SHA-512: the workload is produced, consumed by ingest, published, and materialized by
// query, every connection over TLS with the test CA; the materialized hours equal the
// reference model.
func TestSecuredPipeline(t *testing.T) {
	sb := kafkatest.SecureBroker(t)
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const span = 6 * time.Hour
	msgs, good := workload.Generate(workload.Options{Seed: 9, Projects: 20, Events: 10_000, Span: span,
		End: end, MaxDelay: 20 * time.Minute, DupShare: 0.02, BadShare: 0.002})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	now := end.Add(time.Minute)
	cfg := testConfig(sb.Brokers, now)
	cfg.Security = sb.Security(kafkax.MechanismSCRAMSHA512)
	stop := startService(t, ctx, cfg, "secured")
	defer stop()
	produce(t, ctx, cfg, msgs)

	qcfg := query.DefaultConfig()
	qcfg.Brokers, qcfg.Security, qcfg.Topic = sb.Brokers, cfg.Security, cfg.ResultsTopic
	qcfg.Now = func() time.Time { return now }
	store := query.NewStore()
	mt, err := query.NewMaterializer(qcfg, store, nil, prometheus.NewRegistry())
	require.NoError(t, err)
	mctx, stopQuery := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mt.Run(mctx) }()
	defer func() { stopQuery(); require.NoError(t, <-done) }()

	want := expected(good)
	require.Greater(t, len(want), 100, "a workload worth checking")
	var got map[reference.SeriesHour]window.Peak
	if err := waitFor(ctx, func() bool {
		got = storeHours(store, want, end.Add(-span-time.Hour), end.Add(time.Hour))
		return fmt.Sprint(got) == fmt.Sprint(want)
	}); err != nil {
		requireSameHours(t, want, got)
	}
}

// storeHours reads from store every non-zero hour from first to last of the series in want.
func storeHours(store *query.Store, want map[reference.SeriesHour]window.Peak, first, last time.Time) map[reference.SeriesHour]window.Peak {
	first = first.Truncate(time.Hour)
	dst := make([]api.Peak, int(last.Sub(first)/time.Hour)+1)
	got := map[reference.SeriesHour]window.Peak{}
	seen := map[[2]string]bool{}
	for k := range want {
		if seen[[2]string{k.Project, k.Domain}] {
			continue
		}
		seen[[2]string{k.Project, k.Domain}] = true
		store.Peaks(k.Project, k.Domain, first, dst)
		for i, p := range dst {
			if p.Count > 0 {
				h := first.Add(time.Duration(i) * time.Hour).Unix()
				got[reference.Key(k.Project, k.Domain, h)] = window.Peak{Count: p.Count, Minute: p.Minute}
			}
		}
	}
	return got
}

// TestSecuredStartErrors starts the service and the materializer with a wrong password, an
// unknown CA, and TLS to the plaintext port: each fails at start-up, at once, with an error
// that names the broker and the cause.
func TestSecuredStartErrors(t *testing.T) {
	sb := kafkatest.SecureBroker(t)
	wrongPassword := sb.Security(kafkax.MechanismSCRAMSHA512)
	wrongPassword.SASLPassword = "not-the-password"
	unknownCA := sb.Security(kafkax.MechanismSCRAMSHA512)
	unknownCA.CAFile = ""
	f := func(name, broker string, sec kafkax.Security, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cfg := testConfig([]string{broker}, time.Now())
		cfg.Security = sec
		svc, err := New(cfg, nil, nil)
		require.NoError(t, err, name)
		err = svc.Run(ctx)
		require.ErrorContains(t, err, "kafka "+broker+": "+want, name)
		require.NoError(t, ctx.Err(), "%s: failed before the deadline", name)

		qcfg := query.DefaultConfig()
		qcfg.Brokers, qcfg.Security, qcfg.Topic = []string{broker}, sec, cfg.ResultsTopic
		mt, err := query.NewMaterializer(qcfg, query.NewStore(), nil, nil)
		require.NoError(t, err, name)
		err = mt.Run(ctx)
		require.ErrorContains(t, err, "kafka "+broker+": "+want, name)
		require.NotContains(t, err.Error(), "not-the-password")
	}
	f("wrong password", sb.Brokers[0], wrongPassword,
		`SASL authentication failed (SCRAM-SHA-512, user "`+sb.User+`"): check the user and password`)
	f("unknown CA", sb.Brokers[0], unknownCA, "TLS handshake: certificate signed by unknown authority")
	f("TLS to the plaintext port", sb.Plaintext[0], sb.Security(kafkax.MechanismSCRAMSHA512),
		"TLS handshake: the broker closed the connection")
}
