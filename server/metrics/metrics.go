// Package metrics defines the Prometheus metrics of the service in one place,
// so that their names and labels stay consistent and documented.
package metrics

import (
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/internal/buildinfo"
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
// client id is Unknown. (server/wire passes a test that asks the live
// configuration, so that a reload's applications get their own value.)
func WithClientIDs(known func(clientID string) bool) Option {
	return func(m *Metrics) {
		if known != nil {
			m.knownClient.Store(&known)
		}
	}
}

// Metrics holds the service's collectors. A nil *Metrics records nothing, so
// packages can be used without metrics.
type Metrics struct {
	registry      *prometheus.Registry
	sends         *counters
	refusals      *prometheus.CounterVec
	errors        *prometheus.CounterVec
	verifications *counters
	captchaChecks *counters
	inFlight      prometheus.Gauge
	http          echo.MiddlewareFunc
	knownClient   atomic.Pointer[func(string) bool]
	// receipts are the delivery receipts' collectors (receipts.go).
	receipts receiptMetrics
	conv     conversionMetrics // conversion.go
}

// New returns metrics registered on a fresh registry, with the Go runtime and
// process collectors and smscode_build_info. Every label value is bounded:
// see Unknown and WithClientIDs.
//
// Everything is registered here, once per Metrics, so that a service
// rebuilt on the same Metrics (a config reload) registers nothing twice:
// the HTTP middleware (HTTP) is made here too and shared by every server
// built on m.
func New(opts ...Option) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		sends: newCounters(prometheus.CounterOpts{
			Name: "smscode_sends_total",
			Help: "Send requests that reached the pipeline, by application, scenario, outcome (sent, refused, failed, test: a test number) and provider.",
		}, "client_id", "scenario", "outcome", "provider"),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_limit_refusals_total",
			Help: "Sends refused by a limit, by limit kind.",
		}, []string{"limit"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_errors_total",
			Help: "Error answers, by error_code (validation errors included).",
		}, []string{"code"}),
		verifications: newCounters(prometheus.CounterOpts{
			Name: "smscode_verifications_total",
			Help: "Code checks, by scenario and outcome (ok, wrong, not_found, too_many_attempts).",
		}, "scenario", "outcome"),
		captchaChecks: newCounters(prometheus.CounterOpts{
			Name: "smscode_captcha_checks_total",
			Help: "Captcha checks, by captcha kind (slider, altcha, turnstile, hcaptcha, none, default), step (answer: a slider puzzle answer; token: the captcha_token of a send) and outcome (passed, failed, error).",
		}, "kind", "step", "outcome"),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "smscode_http_requests_in_flight",
			Help: "HTTP requests being served by the API listener.",
		}),
		conv: newConversionMetrics(),
	}
	bi := buildinfo.Get()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "smscode_build_info",
		Help:        "Always 1; its labels say which build is running (internal/buildinfo).",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion},
	})
	build.Set(1)
	m.registry.MustRegister(m.sends.CounterVec, m.refusals, m.errors, m.verifications.CounterVec, m.captchaChecks.CounterVec, m.inFlight, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(m.conv.collectors()...)
	m.http = m.newHTTPMiddleware()
	m.receipts = newReceiptMetrics(m.registry)
	for _, o := range opts {
		o(m)
	}
	return m
}

func (m *Metrics) clientLabel(id string) string {
	if known := m.knownClient.Load(); known != nil && id != "" && len(id) <= maxLabelLen && (*known)(id) {
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
		m.sends.with(labelValues{m.clientLabel(clientID), scenarioLabel(scenario), nameLabel(outcome), nameLabel(provider)}).Inc()
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
		m.verifications.with(labelValues{scenarioLabel(scenario), nameLabel(outcome)}).Inc()
	}
}

// Steps and outcomes of CaptchaCheck.
const (
	CaptchaStepAnswer  = "answer" // a slider puzzle answer (captcha verify API)
	CaptchaStepToken   = "token"  // the captcha_token of a send
	CaptchaPassed      = "passed"
	CaptchaFailed      = "failed" // refused: a wrong, expired or replayed token or answer
	CaptchaCheckFailed = "error"  // could not be checked (store or siteverify unreachable)
)

// CaptchaCheck counts a captcha check of an application's captcha kind
// (from configuration) at a step, by outcome.
func (m *Metrics) CaptchaCheck(kind, step, outcome string) {
	if m != nil {
		m.captchaChecks.with(labelValues{nameLabel(kind), nameLabel(step), nameLabel(outcome)}).Inc()
	}
}
