// Package failover is an sms.Provider that tries several providers in
// order. The same Message (same ID, same code) goes to each, so a person
// who ends up with two texts holds one valid code. A temporary error moves
// on to the next provider; a permanent refusal stops at once, since no
// other provider would deliver (the error wraps sms.ErrPermanent, which the
// API answers with SMS.0008). When every provider fails, the error wraps
// ErrAllFailed (SMS.0007).
//
// Each attempt has its own timeout (Config.Timeout) inside the request's
// deadline, and each provider its own circuit breaker
// (github.com/sony/gobreaker/v2): after Config.FailureThreshold consecutive
// temporary failures it opens and the provider is skipped; after
// Config.OpenFor one probe is let through (half-open), whose success
// closes it. A permanent refusal counts as a success for the breaker: the
// gateway answered. A send whose caller gave up is not counted.
package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/tracing/spans"
)

var _ sms.Provider = (*Failover)(nil)

// ErrAllFailed is wrapped by Send's error when no provider accepted the
// message and none refused it for good.
var ErrAllFailed = errors.New("failover: all SMS providers failed")

// errCallerGone marks an attempt cut short by the caller's own context, so
// that the breaker does not count it.
var errCallerGone = errors.New("failover: caller gave up")

// Defaults of Config.
const (
	DefaultTimeout          = 5 * time.Second
	DefaultFailureThreshold = 5
	DefaultOpenFor          = 30 * time.Second
)

// Config configures a Failover. Zero values take the defaults.
type Config struct {
	// Timeout bounds each attempt, within the request's own deadline. The
	// default is 5 seconds.
	Timeout time.Duration `yaml:"timeout"`
	// FailureThreshold is how many consecutive temporary failures open a
	// provider's breaker. The default is 5.
	FailureThreshold uint32 `yaml:"failure_threshold"`
	// OpenFor is how long an open breaker skips its provider before one
	// probe is let through. The default is 30 seconds.
	OpenFor time.Duration `yaml:"open_for"`
	// TracerProvider records a span per attempt (SpanAttempt); nil: none.
	TracerProvider trace.TracerProvider `yaml:"-"`
}

// Outcomes of an attempt, the values of the "outcome" metric label.
const (
	OutcomeAccepted    = "accepted"
	OutcomePermanent   = "permanent"
	OutcomeTemporary   = "temporary"
	OutcomeSkippedOpen = "skipped_open"
)

type member struct {
	p  sms.Provider
	cb *gobreaker.CircuitBreaker[sms.Receipt]
	// local: p answers in process (see inProcess), so its attempts get no
	// timer of their own.
	local bool
	// The metrics of an accepted attempt, looked up once: the hot path.
	// The latency series is made on first use, as WithLabelValues would.
	accepted        prometheus.Counter
	acceptedLatency func() prometheus.Observer
}

// Failover sends through the first provider that accepts.
type Failover struct {
	members  []member
	cfg      Config
	log      *slog.Logger
	tracer   trace.Tracer
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New returns a Failover over providers, tried in the given order. Names
// must be unique and non-empty (they label metrics and logs). Metrics are
// registered on reg unless it is nil; log may be nil (discard).
func New(providers []sms.Provider, cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Failover, error) {
	if len(providers) == 0 {
		return nil, errors.New("failover: no providers")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.FailureThreshold == 0 {
		cfg.FailureThreshold = DefaultFailureThreshold
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = DefaultOpenFor
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Failover{
		cfg:    cfg,
		log:    log,
		tracer: spans.Tracer(cfg.TracerProvider, tracerScope),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_sms_provider_attempts_total",
			Help: "Attempts to send through an SMS provider, by provider and outcome (accepted, permanent, temporary, skipped_open).",
		}, []string{"provider", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "smscode_sms_provider_attempt_seconds",
			Help:    "Duration of an attempt to send through an SMS provider, by provider and outcome (accepted, permanent, temporary): the service's one provider-latency histogram.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider", "outcome"}),
	}
	seen := map[string]bool{}
	for _, p := range providers {
		name := p.Name()
		if name == "" || seen[name] {
			return nil, fmt.Errorf("failover: provider name %q is empty or repeated", name)
		}
		seen[name] = true
	}
	for _, p := range providers {
		name := p.Name()
		for _, o := range []string{OutcomeAccepted, OutcomePermanent, OutcomeTemporary, OutcomeSkippedOpen} {
			f.attempts.WithLabelValues(name, o)
		}
		ip, _ := p.(inProcess)
		f.members = append(f.members, member{
			p:        p,
			cb:       f.breaker(name),
			local:    ip != nil && ip.InProcess(),
			accepted: f.attempts.WithLabelValues(name, OutcomeAccepted),
			acceptedLatency: sync.OnceValue(func() prometheus.Observer {
				return f.latency.WithLabelValues(name, OutcomeAccepted)
			}),
		})
	}
	if reg != nil {
		// Once per chain and registry: a config reload registers a rebuilt
		// chain's collectors only after the old chain's are gone
		// (server/wire's install).
		for _, c := range []prometheus.Collector{f.attempts, f.latency, breakerCollector{f}} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("failover: register metrics: %w", err)
			}
		}
	}
	return f, nil
}

func (f *Failover) breaker(name string) *gobreaker.CircuitBreaker[sms.Receipt] {
	threshold := f.cfg.FailureThreshold
	return gobreaker.NewCircuitBreaker[sms.Receipt](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     f.cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		IsSuccessful: func(err error) bool {
			return err == nil || errors.Is(err, sms.ErrPermanent)
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errCallerGone) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
			}
			f.log.Log(context.Background(), level, "sms provider circuit breaker changed state",
				"provider", name, "from", from.String(), "to", to.String())
		},
	})
}

// Name implements sms.Provider.
func (f *Failover) Name() string { return "failover" }

// Send implements sms.Provider. The Receipt names the provider that
// accepted the message.
func (f *Failover) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	var errs []error
	for i := range f.members {
		m := &f.members[i]
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		name := m.p.Name()
		actx, span := f.startAttempt(ctx, name, i+1)
		start := time.Now()
		rec, err := m.cb.Execute(func() (sms.Receipt, error) { return f.attempt(actx, m, msg) })
		elapsed := time.Since(start)
		switch {
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			endAttempt(span, OutcomeSkippedOpen)
			f.attempts.WithLabelValues(name, OutcomeSkippedOpen).Inc()
			errs = append(errs, fmt.Errorf("%s: skipped, circuit breaker open", name))
		case err == nil:
			endAttempt(span, OutcomeAccepted)
			m.accepted.Inc()
			m.acceptedLatency().Observe(elapsed.Seconds())
			if rec.Provider == "" {
				rec.Provider = name
			}
			// At debug: the sender logs the accepted send ("sms sent", with
			// the provider and its message id) at info already.
			if f.log.Enabled(ctx, slog.LevelDebug) {
				f.log.LogAttrs(actx, slog.LevelDebug, "sms accepted", slog.String("provider", name),
					slog.String("provider_message_id", rec.MessageID), slog.String("message_id", msg.ID),
					slog.Int("attempt", i+1), slog.Duration("duration", elapsed))
			}
			return rec, nil
		case errors.Is(err, sms.ErrPermanent):
			endAttempt(span, OutcomePermanent)
			f.observe(name, OutcomePermanent, elapsed)
			f.log.WarnContext(actx, "sms refused for good", "provider", name, "message_id", msg.ID, "error", err)
			return sms.Receipt{}, fmt.Errorf("failover: %w", err)
		default:
			endAttempt(span, OutcomeTemporary)
			f.observe(name, OutcomeTemporary, elapsed)
			f.log.WarnContext(actx, "sms provider failed, trying the next", "provider", name, "message_id", msg.ID,
				"attempt", i+1, "duration", elapsed, "error", err)
			errs = append(errs, err)
		}
	}
	return sms.Receipt{}, fmt.Errorf("%w: %w", ErrAllFailed, errors.Join(errs...))
}

// inProcess is implemented by providers that answer in process, without
// I/O or waiting (sms.Null): such a provider cannot hang, so an attempt
// through it needs no per-attempt timeout, whose timer and context cost
// more than the attempt itself; the request's deadline still bounds it.
type inProcess interface{ InProcess() bool }

// attempt sends through m's provider with the per-attempt timeout (none for
// an in-process provider); an error due to the caller's context ending is
// marked errCallerGone.
func (f *Failover) attempt(ctx context.Context, m *member, msg sms.Message) (sms.Receipt, error) {
	actx := ctx
	if !m.local {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, f.cfg.Timeout)
		defer cancel()
	}
	rec, err := m.p.Send(actx, msg)
	if err != nil && !errors.Is(err, sms.ErrPermanent) && ctx.Err() != nil {
		return rec, fmt.Errorf("%w: %w", errCallerGone, err)
	}
	return rec, err
}

func (f *Failover) observe(provider, outcome string, d time.Duration) {
	f.attempts.WithLabelValues(provider, outcome).Inc()
	f.latency.WithLabelValues(provider, outcome).Observe(d.Seconds())
}

// breakerDesc describes the breaker state gauge.
var breakerDesc = prometheus.NewDesc("smscode_sms_provider_breaker_state",
	"State of an SMS provider's circuit breaker: 0 closed, 1 half-open, 2 open.",
	[]string{"provider"}, nil)

// breakerCollector reads each breaker's state at scrape time (an open
// breaker becomes half-open by the clock, not by an event).
type breakerCollector struct{ f *Failover }

// Describe implements prometheus.Collector.
func (c breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- breakerDesc }

// Collect implements prometheus.Collector.
func (c breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.f.members {
		ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, stateValue(m.cb.State()), m.p.Name())
	}
}

func stateValue(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}
