package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recordusage/recordusage/event"
)

// metrics are the ingest metrics; registered only when a registry is given.
type metrics struct {
	eventsIn       prometheus.Counter
	rejected       *prometheus.CounterVec
	lateCorrected  prometheus.Counter
	published      prometheus.Counter
	lag            *prometheus.GaugeVec
	checkpointAge  *prometheus.GaugeVec
	checkpointSize *prometheus.GaugeVec
	checkpointErrs prometheus.Counter
	partitions     prometheus.Gauge
	recoveries     prometheus.Counter
	recoveryRecs   prometheus.Counter
	recovering     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		eventsIn: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_events_total",
			Help: "Messages read from the input topic."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recordusage_events_rejected_total",
			Help: "Messages sent to the dead-letter topic, by reason."}, []string{"reason"}),
		lateCorrected: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_late_corrections_total",
			Help: "Events applied at or behind the published frontier, which corrected published minutes."}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_results_published_total",
			Help: "Hourly results written to the results topic."}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "recordusage_partition_lag_messages",
			Help: "Messages of the partition not read yet."}, []string{"partition"}),
		checkpointAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "recordusage_checkpoint_age_seconds",
			Help: "Seconds since the partition's last checkpoint."}, []string{"partition"}),
		checkpointSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "recordusage_checkpoint_bytes",
			Help: "Size of the partition's last checkpoint."}, []string{"partition"}),
		checkpointErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_checkpoint_errors_total",
			Help: "Checkpoints or commits that failed (they are retried)."}),
		partitions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recordusage_assigned_partitions",
			Help: "Input partitions assigned to this instance."}),
		recoveries: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_recoveries_total",
			Help: "Partitions taken over from an owner that did not stop cleanly (docs/reliability.md)."}),
		recoveryRecs: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_recovery_results_total",
			Help: "Results and tombstones republished by recoveries, beyond what an uninterrupted run writes."}),
		recovering: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recordusage_partitions_recovering",
			Help: "Assigned partitions still withholding the hours a previous owner may have published."}),
	}
	for _, r := range event.AllReasons() {
		m.rejected.WithLabelValues(r.String())
	}
	if reg != nil {
		reg.MustRegister(m.eventsIn, m.rejected, m.lateCorrected, m.published, m.lag,
			m.checkpointAge, m.checkpointSize, m.checkpointErrs, m.partitions, m.recoveries, m.recoveryRecs, m.recovering)
	}
	return m
}

func (m *metrics) forget(partition int) {
	p := strconv.Itoa(partition)
	m.lag.DeleteLabelValues(p)
	m.checkpointAge.DeleteLabelValues(p)
	m.checkpointSize.DeleteLabelValues(p)
}
