package ingest

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recordusage/recordusage/event"
)

// metrics are the ingest metrics; registered only when a registry is given. docs/operations.md
// lists them with example alerts.
type metrics struct {
	eventsIn           prometheus.Counter
	lost               prometheus.Counter
	markers            *prometheus.CounterVec
	partitionsChanged  prometheus.Counter
	checkpointsMissing prometheus.Counter
	inputReset         prometheus.Counter
	rejected           *prometheus.CounterVec
	lateCorrected      prometheus.Counter
	published          prometheus.Counter
	partitions         prometheus.Gauge

	flushDuration  prometheus.Histogram
	flushOverruns  prometheus.Counter
	checkpointTime prometheus.Histogram
	checkpointErrs prometheus.Counter

	fenced       prometheus.Counter
	recoveries   prometheus.Counter
	recoveryRecs prometheus.Counter
	recovering   prometheus.Gauge

	// Per owned partition, labelled by partition; see partitionMetrics.
	lag, checkpointAge, checkpointSize, watermark, watermarkLag, recordings, series *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	perPartition := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"partition"})
	}
	seconds := prometheus.ExponentialBuckets(0.001, 2.5, 12) // 1 ms … 24 s
	m := &metrics{
		eventsIn: counter("recordusage_events_total", "Messages read from the input topic, transaction markers aside."),
		lost: counter("recordusage_events_lost_total",
			"Input messages deleted (by the topic's retention) before ingest read them: their events are missing from the results."),
		markers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recordusage_transaction_markers_total",
			Help: "Transaction markers read from the input topic (written by transactional producers), by marker: commit or abort."},
			[]string{"marker"}),
		inputReset: counter("recordusage_input_reset_total",
			"Partitions whose offset to resume from was past their end (the input topic was created again): read again from their first offset."),
		checkpointsMissing: counter("recordusage_checkpoints_missing_total",
			"Partitions with a committed offset but no checkpoint (the checkpoint topic lost it): their state started empty."),
		partitionsChanged: counter("recordusage_input_partitions_changed_total",
			"Partitions restored from a checkpoint written when the input topic had another partition count: results are wrong (docs/operations.md)."),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recordusage_events_rejected_total",
			Help: "Messages sent to the dead-letter topic, by reason."}, []string{"reason"}),
		lateCorrected: counter("recordusage_late_corrections_total",
			"Events applied at or behind the published frontier, which corrected published minutes."),
		published: counter("recordusage_results_published_total", "Hourly results written to the results topic."),
		partitions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recordusage_assigned_partitions",
			Help: "Input partitions assigned to this instance."}),

		flushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "recordusage_flush_duration_seconds",
			Help: "Time to advance an engine and publish its results and dead letters.", Buckets: seconds}),
		flushOverruns: counter("recordusage_flush_overruns_total",
			"Flushes that took longer than the flush interval: publication falls behind the input."),
		checkpointTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "recordusage_checkpoint_duration_seconds",
			Help: "Time to write a checkpoint and commit its offset.", Buckets: seconds}),
		checkpointErrs: counter("recordusage_checkpoint_errors_total", "Checkpoints or commits that failed (they are retried)."),

		fenced: counter("recordusage_fenced_total",
			"Checkpoints and publications skipped because the group had expelled this instance while it ran (a zombie)."),
		recoveries: counter("recordusage_recoveries_total",
			"Partitions taken over from an owner that did not stop cleanly (docs/reliability.md)."),
		recoveryRecs: counter("recordusage_recovery_results_total",
			"Results and tombstones republished by recoveries, beyond what an uninterrupted run writes."),
		recovering: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recordusage_partitions_recovering",
			Help: "Assigned partitions still withholding the hours a previous owner may have published."}),

		lag:            perPartition("recordusage_partition_lag_messages", "Messages of the partition not read yet."),
		checkpointAge:  perPartition("recordusage_checkpoint_age_seconds", "Seconds since the partition's last checkpoint."),
		checkpointSize: perPartition("recordusage_checkpoint_bytes", "Size of the partition's last checkpoint."),
		watermark: perPartition("recordusage_partition_watermark_seconds",
			"The partition's event watermark (largest event time minus the lateness), Unix seconds."),
		watermarkLag: perPartition("recordusage_partition_watermark_lag_seconds",
			"How far the partition's event watermark is behind the wall clock."),
		recordings: perPartition("recordusage_partition_recordings", "Recordings the partition's engine holds."),
		series:     perPartition("recordusage_partition_series", "Projects and (project, domain) pairs the partition's engine holds."),
	}
	for _, r := range event.AllReasons() {
		m.rejected.WithLabelValues(r.String())
	}
	m.markers.WithLabelValues("commit")
	m.markers.WithLabelValues("abort")
	if reg != nil {
		reg.MustRegister(m.eventsIn, m.lost, m.markers, m.partitionsChanged, m.checkpointsMissing, m.inputReset,
			m.rejected, m.lateCorrected, m.published, m.partitions,
			m.flushDuration, m.flushOverruns, m.checkpointTime, m.checkpointErrs,
			m.fenced, m.recoveries, m.recoveryRecs, m.recovering,
			m.lag, m.checkpointAge, m.checkpointSize, m.watermark, m.watermarkLag, m.recordings, m.series)
	}
	return m
}

// partitionMetrics are the gauges of one owned partition, bound to its label once. The
// watermark gauges exist only once the partition has a watermark: a partition that has seen no
// event has none (CONTRACT.md §4), and a 0 would read as a watermark lagging since 1970.
type partitionMetrics struct {
	lag, checkpointAge, checkpointSize, recordings, series prometheus.Gauge

	label                  string
	watermarkVec, lagVec   *prometheus.GaugeVec
	watermark, watermarkLg prometheus.Gauge // nil until the partition has a watermark
}

func (m *metrics) partition(p int) *partitionMetrics {
	l := strconv.Itoa(p)
	return &partitionMetrics{lag: m.lag.WithLabelValues(l), checkpointAge: m.checkpointAge.WithLabelValues(l),
		checkpointSize: m.checkpointSize.WithLabelValues(l), recordings: m.recordings.WithLabelValues(l),
		series: m.series.WithLabelValues(l), label: l, watermarkVec: m.watermark, lagVec: m.watermarkLag}
}

// setWatermark reports the partition's watermark and its lag behind the wall clock.
func (pm *partitionMetrics) setWatermark(wm, now time.Time) {
	if pm.watermark == nil {
		pm.watermark, pm.watermarkLg = pm.watermarkVec.WithLabelValues(pm.label), pm.lagVec.WithLabelValues(pm.label)
	}
	pm.watermark.Set(float64(wm.UnixNano()) / 1e9)
	pm.watermarkLg.Set(now.Sub(wm).Seconds())
}

// forget drops the gauges of a partition this instance no longer owns.
func (m *metrics) forget(partition int) {
	p := strconv.Itoa(partition)
	for _, g := range []*prometheus.GaugeVec{m.lag, m.checkpointAge, m.checkpointSize, m.watermark,
		m.watermarkLag, m.recordings, m.series} {
		g.DeleteLabelValues(p)
	}
}
