package failover_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/internal/metricstest"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/sms/smstest"
)

// histCount is the sample count of smscode_sms_provider_attempt_seconds
// over the series with labels (0 when there is none).
func histCount(t *testing.T, reg *prometheus.Registry, labels map[string]string) uint64 {
	t.Helper()
	var n uint64
	for _, m := range metricstest.Samples(t, reg, "smscode_sms_provider_attempt_seconds", labels) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// TestChainMetricsPerChain: two chains on one registry each have their own
// series (the chain label), the latency histogram observes each attempt,
// the breaker gauge shows an open breaker, and the same chain cannot be
// registered twice.
func TestChainMetricsPerChain(t *testing.T) {
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
	wantOne(t, reg, "smscode_sms_provider_breaker_state", breaker, 2) // open

	// The other chain's series are its own.
	wantOne(t, reg, "smscode_sms_provider_attempts_total", map[string]string{"chain": "secondary", "provider": "secondary", "outcome": "accepted"}, 1)

	// The same chain again on the same registry is refused, not merged:
	// a reload (server/wire) registers a rebuilt chain only once the old
	// one's collectors are unregistered.
	if _, err := failover.New(providers, cfg, chainReg("primary,secondary"), nil); err == nil {
		t.Fatal("a second chain with the same label registered on the same registry")
	}
}
