package query

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of a Materializer. Every field works without a registry.
type metrics struct {
	records prometheus.Counter
	bad     prometheus.Counter
	expired prometheus.Counter
	split   prometheus.Counter
	offsets *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, store *Store, ready func() bool) *metrics {
	m := &metrics{
		records: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_query_records_total",
			Help: "Result records applied to the in-memory store."}),
		bad: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_query_bad_records_total",
			Help: "Result records that could not be decoded and were skipped."}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_query_expired_records_total",
			Help: "Result records older than the retention, skipped."}),
		split: prometheus.NewCounter(prometheus.CounterOpts{Name: "recordusage_query_split_series_total",
			Help: "Series whose result records came from two input partitions: the project's events are split between them, and its results are wrong."}),
		offsets: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "recordusage_query_partition_offset",
			Help: "Offset of the last result record read, per partition."}, []string{"partition"}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.records, m.bad, m.expired, m.split, m.offsets,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recordusage_query_caught_up",
			Help: "1 once every partition of the results topic was read up to its start-up end."},
			func() float64 {
				if ready() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recordusage_query_series",
			Help: "Series (project, domain) held in memory."},
			func() float64 { n, _ := store.Stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recordusage_query_blocks",
			Help: "Blocks of 256 hours held in memory (about 2 KiB each)."},
			func() float64 { _, n := store.Stats(); return float64(n) }),
	)
	return m
}
