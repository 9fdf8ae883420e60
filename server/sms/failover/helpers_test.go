package failover_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metric finds the sample of family name whose labels include all of want.
func metric(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) *dto.Metric {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func wantCount(t *testing.T, reg *prometheus.Registry, name, provider, outcome string, want float64) {
	t.Helper()
	m := metric(t, reg, name, map[string]string{"provider": provider, "outcome": outcome})
	if m == nil || m.GetCounter().GetValue() != want {
		t.Errorf("%s{provider=%q,outcome=%q} = %v, want %v", name, provider, outcome, m.GetCounter().GetValue(), want)
	}
}

func wantGauge(t *testing.T, reg *prometheus.Registry, provider string, want float64) {
	t.Helper()
	m := metric(t, reg, "smscode_sms_provider_breaker_state", map[string]string{"provider": provider})
	if m == nil || m.GetGauge().GetValue() != want {
		t.Errorf("breaker state of %s = %v, want %v", provider, m.GetGauge().GetValue(), want)
	}
}
