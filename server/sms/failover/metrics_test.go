package failover_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/sms/smstest"
)

// histCount is the sample count of smscode_sms_provider_attempt_seconds
// for labels (0 when there is no such series).
func histCount(t *testing.T, reg *prometheus.Registry, labels map[string]string) uint64 {
	t.Helper()
	m := metric(t, reg, "smscode_sms_provider_attempt_seconds", labels)
	if m == nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

// TestChainRebuiltOnSameRegistry builds a chain twice on one registry, as
// a config reload does (the service keeps its registry): the second New
// must not fail, the counter and the latency histogram go on counting
// from where the first chain left them, and the breaker gauge shows the
// new chain's breakers, not the old one's. Another chain on the same
// registry keeps its own series.
func TestChainRebuiltOnSameRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	chainReg := func(key string) prometheus.Registerer {
		return prometheus.WrapRegistererWith(prometheus.Labels{"chain": key}, reg)
	}
	g1, g2 := smstest.NewGateway(), smstest.NewGateway()
	providers := []sms.Provider{smstest.NewFake("primary", g1), smstest.NewFake("secondary", g2)}
	cfg := failover.Config{FailureThreshold: 1, OpenFor: time.Hour}

	old, err := failover.New(providers, cfg, chainReg("primary,secondary"), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := failover.New(providers[1:], cfg, chainReg("secondary"), nil)
	if err != nil {
		t.Fatal(err)
	}
	g1.Set(smstest.ServerError)
	if _, err := send(t, old, time.Second); err != nil { // primary fails (its breaker opens), secondary accepts
		t.Fatal(err)
	}
	if _, err := send(t, other, time.Second); err != nil {
		t.Fatal(err)
	}
	primary := map[string]string{"chain": "primary,secondary", "provider": "primary", "outcome": "temporary"}
	secondary := map[string]string{"chain": "primary,secondary", "provider": "secondary", "outcome": "accepted"}
	if n := histCount(t, reg, primary); n != 1 {
		t.Fatalf("primary's temporary attempts observed %d times, want 1", n)
	}
	if n := histCount(t, reg, secondary); n != 1 {
		t.Fatalf("secondary's accepted attempts observed %d times, want 1", n)
	}
	breaker := map[string]string{"chain": "primary,secondary", "provider": "primary"}
	if m := metric(t, reg, "smscode_sms_provider_breaker_state", breaker); m.GetGauge().GetValue() != 2 {
		t.Fatalf("old chain's primary breaker = %v, want 2 (open)", m.GetGauge().GetValue())
	}

	// The reload: the same chain again, on the same registry.
	rebuilt, err := failover.New(providers, cfg, chainReg("primary,secondary"), nil)
	if err != nil {
		t.Fatalf("New on a registry that holds the chain's collectors: %v", err)
	}
	g1.Set(smstest.Accept)
	if rec, err := send(t, rebuilt, time.Second); err != nil || rec.Provider != "primary" {
		t.Fatalf("Send = %+v, %v; want the primary (a new chain starts with closed breakers)", rec, err)
	}
	if m := metric(t, reg, "smscode_sms_provider_breaker_state", breaker); m.GetGauge().GetValue() != 0 {
		t.Errorf("breaker gauge = %v after the rebuild, want 0: the new chain's closed breaker", m.GetGauge().GetValue())
	}
	wantCount(t, reg, "smscode_sms_provider_attempts_total", "primary", "temporary", 1)
	if m := metric(t, reg, "smscode_sms_provider_attempts_total", map[string]string{"chain": "primary,secondary", "provider": "primary", "outcome": "accepted"}); m.GetCounter().GetValue() != 1 {
		t.Errorf("primary accepted = %v, want 1", m.GetCounter().GetValue())
	}
	if n := histCount(t, reg, primary); n != 1 {
		t.Errorf("primary's temporary attempts observed %d times after the rebuild, want 1 (kept)", n)
	}
	if n := histCount(t, reg, map[string]string{"chain": "primary,secondary", "provider": "primary", "outcome": "accepted"}); n != 1 {
		t.Errorf("primary's accepted attempt observed %d times, want 1", n)
	}
	// The other chain's series are its own.
	if m := metric(t, reg, "smscode_sms_provider_attempts_total", map[string]string{"chain": "secondary", "provider": "secondary", "outcome": "accepted"}); m.GetCounter().GetValue() != 1 {
		t.Errorf("chain secondary: accepted = %v, want 1", m.GetCounter().GetValue())
	}
	// Exactly one breaker series per chain and provider.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == "smscode_sms_provider_breaker_state" && len(mf.GetMetric()) != 3 {
			t.Errorf("%d breaker series, want 3 (two chains: 2 + 1 providers)", len(mf.GetMetric()))
		}
	}
}
