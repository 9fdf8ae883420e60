// Package metrics defines the Prometheus metrics of the service in one place,
// so that their names and labels stay consistent and documented.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smscode/smscode/gen"
)

// Unknown is the label value that stands for any value outside a label's
// bounded set: an unregistered client id, a scenario or error code not in
// the spec, a provider or outcome the service does not name. Label values
// come from requests; each distinct value is a new time series held in
// memory for the life of the process, so an attacker who could choose them
// could grow memory and /metrics without bound.
const Unknown = "unknown"

// maxLabelLen bounds the label values that are not checked against a set
// (providers, outcomes, limit names come from configuration and code, not
// from requests; the bound only keeps a mistake from costing much).
const maxLabelLen = 64

// Option configures New.
type Option func(*Metrics)

// WithClientIDs names the client ids that get their own client_id label
// value (the registered applications'); known reports whether an id is
// one. Every other id is counted as Unknown. Without this option every
// client id is Unknown.
func WithClientIDs(known func(clientID string) bool) Option {
	return func(m *Metrics) { m.knownClient = known }
}

// Metrics holds the service's collectors. A nil *Metrics records nothing, so
// packages can be used without metrics.
type Metrics struct {
	registry        *prometheus.Registry
	sends           *prometheus.CounterVec
	refusals        *prometheus.CounterVec
	errors          *prometheus.CounterVec
	verifications   *prometheus.CounterVec
	providerLatency *prometheus.HistogramVec
	knownClient     func(string) bool
}

// New returns metrics registered on a fresh registry, with the Go runtime and
// process collectors. Every label value is bounded: see Unknown and
// WithClientIDs.
func New(opts ...Option) *Metrics {
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
	for _, o := range opts {
		o(m)
	}
	return m
}

func (m *Metrics) clientLabel(id string) string {
	if m.knownClient != nil && id != "" && len(id) <= maxLabelLen && m.knownClient(id) {
		return id
	}
	return Unknown
}

func scenarioLabel(s string) string {
	if gen.Scenario(s).Valid() {
		return s
	}
	return Unknown
}

func codeLabel(c string) string {
	if gen.ErrorCode(c).Valid() {
		return c
	}
	return Unknown
}

// nameLabel bounds a value chosen by the service (an outcome, a provider
// or limit name): short printable ASCII, or Unknown.
func nameLabel(s string) string {
	if len(s) > maxLabelLen {
		return Unknown
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return Unknown
		}
	}
	return s
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
		m.sends.WithLabelValues(m.clientLabel(clientID), scenarioLabel(scenario), nameLabel(outcome), nameLabel(provider)).Inc()
	}
}

// Refusal counts a send refused by a limit of the given kind.
func (m *Metrics) Refusal(limit string) {
	if m != nil {
		m.refusals.WithLabelValues(nameLabel(limit)).Inc()
	}
}

// Error counts an error answer by its error_code.
func (m *Metrics) Error(code string) {
	if m != nil {
		m.errors.WithLabelValues(codeLabel(code)).Inc()
	}
}

// Verification counts a code check by its outcome.
func (m *Metrics) Verification(scenario, outcome string) {
	if m != nil {
		m.verifications.WithLabelValues(scenarioLabel(scenario), nameLabel(outcome)).Inc()
	}
}

// ProviderSend observes how long a provider took to answer.
func (m *Metrics) ProviderSend(provider, outcome string, d time.Duration) {
	if m != nil {
		m.providerLatency.WithLabelValues(nameLabel(provider), nameLabel(outcome)).Observe(d.Seconds())
	}
}
