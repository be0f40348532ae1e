// Package promtest reads the metrics of a Prometheus registry in tests.
package promtest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// ByLabel returns the values of the counter or gauge family name, by the value of its label
// label; none when the family has no series yet.
func ByLabel(t testing.TB, g prometheus.Gatherer, name, label string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range family(t, g, name).GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out[l.GetValue()] = value(m)
			}
		}
	}
	return out
}

// Sum returns the sum of the values of the counter or gauge family name over its series (the
// value of an unlabelled one); it fails the test when the family does not exist.
func Sum(t testing.TB, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mf := family(t, g, name)
	if mf == nil {
		t.Fatalf("no metric %s", name)
	}
	sum := 0.0
	for _, m := range mf.GetMetric() {
		sum += value(m)
	}
	return sum
}

func family(t testing.TB, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}
