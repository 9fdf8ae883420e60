// Package metricstest reads metric values in tests by family name and label
// match, from any prometheus.Gatherer: a registry, or a served /metrics page
// parsed by Page. One reader, so that every test counts a series the same
// way (the sum over every series the match selects) and none of them
// quietly reads a histogram as 0.
package metricstest

import (
	"bytes"
	"sort"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples returns the series of family name whose labels include every
// pair of match (a nil match: all of them). A label that a series lacks
// reads as "", as it does in PromQL. No family of that name is no series:
// a labelled vector has none before its first observation.
func Samples(t testing.TB, g prometheus.Gatherer, name string, match map[string]string) []*dto.Metric {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
		return nil
	}
	var out []*dto.Metric
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := Labels(m)
			for k, v := range match {
				if labels[k] != v {
					continue series
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// Value is the sum of the counter, gauge or untyped values of the series
// Samples selects, 0 when there is none: a family that does not exist
// (a metric renamed, say) reads as 0 too, so a test that expects 0 should
// also check, with Samples, that the series it means exists. A histogram
// or summary family fails the test: it has no one value, and GetCounter
// would read it as 0.
func Value(t testing.TB, g prometheus.Gatherer, name string, match map[string]string) float64 {
	t.Helper()
	var sum float64
	for _, m := range Samples(t, g, name, match) {
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		default:
			t.Fatalf("%s%v is not a counter or gauge: read it with Samples", name, match)
			return 0
		}
	}
	return sum
}

// Labels returns m's label pairs as a map.
func Labels(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// Page parses a Prometheus text page (what a server's /metrics served) into
// a Gatherer, for tests that check what is served, not what a registry
// holds. A page that does not parse fails the test.
func Page(t testing.TB, body []byte) prometheus.Gatherer {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the metrics page does not parse: %v", err)
		return nil
	}
	families := make([]*dto.MetricFamily, 0, len(parsed))
	for _, mf := range parsed {
		families = append(families, mf)
	}
	sort.Slice(families, func(i, j int) bool { return families[i].GetName() < families[j].GetName() })
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return families, nil })
}
