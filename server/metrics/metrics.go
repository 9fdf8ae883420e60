// Package metrics defines the Prometheus metrics of the service in one place,
// so that their names and labels stay consistent and documented.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the service's collectors. A nil *Metrics records nothing, so
// packages can be used without metrics.
type Metrics struct {
	registry        *prometheus.Registry
	sends           *prometheus.CounterVec
	refusals        *prometheus.CounterVec
	errors          *prometheus.CounterVec
	verifications   *prometheus.CounterVec
	providerLatency *prometheus.HistogramVec
}

// New returns metrics registered on a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_sends_total",
			Help: "Send requests that reached the pipeline, by application, scenario, outcome (sent, refused, failed, test: a test number) and provider.",
		}, []string{"client_id", "scenario", "outcome", "provider"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_limit_refusals_total",
			Help: "Sends refused by a limit, by limit kind.",
		}, []string{"limit"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_errors_total",
			Help: "Error answers, by error_code (validation errors included).",
		}, []string{"code"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_verifications_total",
			Help: "Code checks, by scenario and outcome (ok, wrong, not_found, too_many_attempts).",
		}, []string{"scenario", "outcome"}),
		providerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "smscode_provider_send_seconds",
			Help:    "Time an SMS provider took to accept or refuse a message, by provider and outcome.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider", "outcome"}),
	}
	m.registry.MustRegister(m.sends, m.refusals, m.errors, m.verifications, m.providerLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where other packages (SMS providers, stores) register their
// own collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.registry
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Send counts a send request by its outcome.
func (m *Metrics) Send(clientID, scenario, outcome, provider string) {
	if m != nil {
		m.sends.WithLabelValues(clientID, scenario, outcome, provider).Inc()
	}
}

// Refusal counts a send refused by a limit of the given kind.
func (m *Metrics) Refusal(limit string) {
	if m != nil {
		m.refusals.WithLabelValues(limit).Inc()
	}
}

// Error counts an error answer by its error_code.
func (m *Metrics) Error(code string) {
	if m != nil {
		m.errors.WithLabelValues(code).Inc()
	}
}

// Verification counts a code check by its outcome.
func (m *Metrics) Verification(scenario, outcome string) {
	if m != nil {
		m.verifications.WithLabelValues(scenario, outcome).Inc()
	}
}

// ProviderSend observes how long a provider took to answer.
func (m *Metrics) ProviderSend(provider, outcome string, d time.Duration) {
	if m != nil {
		m.providerLatency.WithLabelValues(provider, outcome).Observe(d.Seconds())
	}
}
