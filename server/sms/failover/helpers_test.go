package failover_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/internal/metricstest"
)

// wantOne checks that exactly one series of name has the labels match and
// that its value is want: a missing series is an error even when want is 0
// (a breaker gauge at closed is 0, and must still be there).
func wantOne(t *testing.T, reg *prometheus.Registry, name string, match map[string]string, want float64) {
	t.Helper()
	if n := len(metricstest.Samples(t, reg, name, match)); n != 1 {
		t.Errorf("%s%v: %d series, want 1", name, match, n)
		return
	}
	if got := metricstest.Value(t, reg, name, match); got != want {
		t.Errorf("%s%v = %v, want %v", name, match, got, want)
	}
}

func wantCount(t *testing.T, reg *prometheus.Registry, name, provider, outcome string, want float64) {
	t.Helper()
	wantOne(t, reg, name, map[string]string{"provider": provider, "outcome": outcome}, want)
}

func wantGauge(t *testing.T, reg *prometheus.Registry, provider string, want float64) {
	t.Helper()
	wantOne(t, reg, "smscode_sms_provider_breaker_state", map[string]string{"provider": provider}, want)
}
