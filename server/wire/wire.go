// Package wire assembles the running service from a loaded, validated
// configuration (package config): store, SMS providers and their failover
// chains, captcha verifiers, application registry, send pipeline, HTTP
// server and the demo page. cmd/smscode calls Build; tests call it with
// Overrides to inject a store, a clock or recording providers.
package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/metrics"
	"github.com/smscode/smscode/server/otp"
	"github.com/smscode/smscode/server/receipts"
	"github.com/smscode/smscode/server/sender"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/memstore"
	"github.com/smscode/smscode/server/store/redisstore"
	"github.com/smscode/smscode/server/tracing"
)

// Overrides replace parts that Build would otherwise make from the
// configuration: tests use them to inject a store with a fake clock, or a
// provider that records messages.
type Overrides struct {
	// Store, when set, is used instead of the configured store (and not
	// closed by Runtime.Close).
	Store store.Store
	// Providers replace configured providers of the same name.
	Providers map[string]sms.Provider
	// Now, when set, is the slider's and the altcha CAPTCHA's clock (tests
	// move it).
	Now func() time.Time
	// TracerProvider, when it records (tracing.Enabled), traces requests:
	// the server span, the captcha check, the store decision and each
	// provider attempt, and log lines of a request get its trace_id and
	// span_id. cmd/smscode passes tracing.Setup's. Nil: no tracing.
	TracerProvider trace.TracerProvider
	// OnDelivery, when set, is called with each message whose delivery
	// status a receipt or the sweeper has just settled (the audit trail's
	// hook: the record has the provider, its message id, the app, the
	// scenario, the calling code, the status and its times; never a code
	// or a number). It must not block.
	OnDelivery receipts.Settled
}

// Runtime is the assembled service. What a reload may change (apps,
// tenants, templates, limits, providers and their failover chains) lives in
// a generation that Reload replaces atomically; the rest (store, secret,
// metrics registry, HTTP server) is made once by Build.
type Runtime struct {
	// Config, Service, Slider and Providers are what Build made (the first
	// generation); Reload does not change these fields. LiveConfig is the
	// configuration being served.
	Config  config.Config
	Server  *server.Server
	Service *sender.Service
	Store   store.Store
	Slider  *slider.Slider
	Altcha  *altcha.Altcha
	Metrics *metrics.Metrics
	// Audit is the audit trail (nil when the configuration sets no sink);
	// made once, every generation's pipeline records to it.
	Audit *audit.Trail
	// Providers are the SMS providers by configured name.
	Providers map[string]sms.Provider
	// Receipts tracks sent messages and takes their delivery receipts
	// (made once: its store and metrics outlive reloads; it finds the
	// live generation's providers by name).
	Receipts *receipts.Service

	log     *slog.Logger
	o       Overrides
	hasher  *otp.Hasher
	closers []func() error

	reloadMu sync.Mutex // one Reload at a time
	live     atomic.Pointer[generation]
}

// Close releases what Build opened (store connections, sweepers).
func (r *Runtime) Close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		errs = append(errs, r.closers[i]())
	}
	return errors.Join(errs...)
}

// captchaTokenTTL is how long a used captcha token is remembered: longer
// than any token stays valid at its issuer (Turnstile and hCaptcha tokens
// live 300 s; the slider's verified token 3 min).
const captchaTokenTTL = 10 * time.Minute

// Build assembles the service from a validated configuration.
func Build(cfg config.Config, log *slog.Logger, o Overrides) (rt *Runtime, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !tracing.Enabled(o.TracerProvider) {
		o.TracerProvider = nil // and nothing traced on the request path
	} else {
		log = slog.New(tracing.LogHandler(log.Handler()))
	}
	rt = &Runtime{Config: cfg, log: log, o: o}
	built := rt // rt is nil by the time a failed Build's deferred Close runs
	// Only registered client ids become client_id label values: any other
	// X-client-id is counted as metrics.Unknown, so requests cannot grow
	// the metrics. The live generation answers, so that a reloaded app gets
	// its own label value.
	rt.Metrics = metrics.New(metrics.WithClientIDs(rt.hasClient))
	defer func() {
		if err != nil {
			_ = built.Close()
		}
	}()

	if rt.Store, err = buildStore(cfg, o, rt); err != nil {
		return nil, err
	}
	if rt.hasher, err = buildHasher(cfg); err != nil {
		return nil, err
	}
	// The altcha key is a keyed hash under the server secret, so that
	// every instance sharing the secret signs alike; the name cannot be a
	// code's store key (those start with "{"), so the two never collide.
	rt.Altcha, err = altcha.New(altcha.Config{Key: rt.hasher.Hash("smscode/altcha", "key"), Now: o.Now}, rt.Store)
	if err != nil {
		return nil, fmt.Errorf("config: altcha: %w", err)
	}
	// The audit trail first: the receipts service records settled
	// messages to it (and is closed before it, closers running in reverse).
	if rt.Audit, err = buildAudit(cfg.Audit, rt); err != nil {
		return nil, fmt.Errorf("config: audit: %w", err)
	}
	if rt.Receipts, err = buildReceipts(cfg, rt); err != nil {
		return nil, err
	}
	g, err := rt.newGeneration(cfg, nil)
	if err != nil {
		return nil, err
	}
	if err := rt.install(nil, g); err != nil {
		return nil, err
	}
	rt.Service, rt.Slider, rt.Providers = g.svc, g.slider, g.providers

	httpCfg := HTTPConfig(cfg)
	// One HTTP server for the life of the process: its routes, middleware
	// and their collectors are made once, and each call goes to the live
	// generation's Service (liveService).
	httpCfg.TracerProvider = o.TracerProvider
	rt.Server, err = server.New(httpCfg, liveService{rt}, log, rt.Metrics)
	if err != nil {
		return nil, err
	}
	rt.Server.MountReceipts(rt.Receipts.Handler)
	mountDemo(cfg, rt)
	return rt, nil
}

// buildReceipts makes the receipts service and starts its sweeper, which
// Close stops. Its settings (receipts.ttl, wait, sweep_interval) take a
// restart; receipts.public_url is applied by a reload (the providers are
// rebuilt).
func buildReceipts(cfg config.Config, rt *Runtime) (*receipts.Service, error) {
	svc, err := receipts.New(receipts.Config{
		TTL: cfg.Receipts.TTL, Wait: cfg.Receipts.Wait, SweepInterval: cfg.Receipts.SweepInterval,
	}, receipts.Deps{Store: rt.Store, Metrics: rt.Metrics, Log: rt.log, Provider: rt.receiptReader, Now: rt.o.Now, OnSettled: rt.onSettled})
	if err != nil {
		return nil, fmt.Errorf("config: receipts: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	rt.closers = append(rt.closers, func() error { cancel(); <-done; return nil })
	return svc, nil
}

// LiveConfig is the configuration being served: Build's, or the last one
// Reload accepted.
func (r *Runtime) LiveConfig() config.Config { return r.live.Load().cfg }

// HTTPConfig is the server.Config that Build serves cfg with (tracing
// aside, which comes from Overrides): cfg's HTTP section, dev mode when
// either place turns it on, and /metrics off the API's listener when a
// metrics listener of its own is configured.
func HTTPConfig(cfg config.Config) server.Config {
	httpCfg := cfg.HTTP
	httpCfg.DevMode = httpCfg.DevMode || cfg.DevMode
	httpCfg.MetricsElsewhere = cfg.MetricsAddr != ""
	return httpCfg
}

func (r *Runtime) hasClient(id string) bool {
	g := r.live.Load()
	return g != nil && g.reg.HasClient(id)
}

func buildStore(cfg config.Config, o Overrides, rt *Runtime) (store.Store, error) {
	if o.Store != nil {
		return o.Store, nil
	}
	if cfg.Store.Kind == "redis" {
		client, err := redisstore.NewClient(cfg.Store.Redis)
		if err != nil {
			return nil, fmt.Errorf("config: store.redis: %w", err)
		}
		rt.closers = append(rt.closers, client.Close)
		// The limits are only as durable as Redis: warn of settings that
		// forget them (eviction, no persistence), bounded, once.
		ctx, cancel := context.WithTimeout(context.Background(), redisstore.CheckTimeout)
		redisstore.LogSettings(ctx, client, rt.log)
		cancel()
		return redisstore.New(client, cfg.Store.Redis.StoreConfig()), nil
	}
	s := memstore.New(memstore.Config{MaxEntries: cfg.Store.Memory.MaxEntries})
	rt.closers = append(rt.closers, func() error { s.Close(); return nil })
	return s, nil
}

// checkRedis reports whether the Redis options make a client, without
// connecting (NewClient does not).
func checkRedis(cfg config.Config) error {
	client, err := redisstore.NewClient(cfg.Store.Redis)
	if err != nil {
		return fmt.Errorf("config: store.redis: %w", err)
	}
	return client.Close()
}

func buildHasher(cfg config.Config) (*otp.Hasher, error) {
	var secret []byte
	var err error
	switch {
	case cfg.Secret != "":
		secret, err = otp.ParseSecret(cfg.Secret)
	default: // dev mode (Validate requires a secret otherwise)
		path := cfg.SecretFile
		if path == "" {
			path = ".smscode/secret"
		}
		secret, err = otp.LoadOrCreateSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("config: secret: %w", err)
	}
	return otp.NewHasher(secret)
}

func buildChannel(cfg config.Config, a *apps.App, rt *Runtime, g *generation, prev *generation) (sender.Channel, error) {
	verifier, err := buildCaptcha(a, rt, g)
	if err != nil {
		return sender.Channel{}, err
	}
	tpl, err := sms.DefaultTemplates().With(templateOverrides(a))
	if err != nil {
		return sender.Channel{}, err
	}
	names := a.Providers
	if len(names) == 0 {
		names = cfg.DefaultProviders
	}
	if len(names) == 0 {
		for _, p := range cfg.Providers {
			names = append(names, p.Name)
		}
	}
	provider, err := g.chain(names, cfg, prev, rt.log, rt.o.TracerProvider)
	if err != nil {
		return sender.Channel{}, err
	}
	pumping := cfg.Pumping.Or(sender.DefaultPumping)
	pumping.AutoBlock = a.AutoBlock.Over(pumping.AutoBlock) // the app's learning-rule overrides
	return sender.Channel{
		Captcha:   verifier,
		Provider:  provider,
		Templates: tpl,
		Limits:    a.Limits.Over(cfg.Limits.Over(sender.DefaultLimits)),
		Pumping:   pumping,
	}, nil
}

// buildCaptcha makes an app's captcha check: its test tokens (dev mode
// only, reusable) in front of its real verifier, which sees each token once.
func buildCaptcha(a *apps.App, rt *Runtime, g *generation) (captcha.Verifier, error) {
	var real captcha.Verifier
	switch strings.ToLower(a.Captcha.Kind) {
	case apps.CaptchaNone:
		// The application checks humans itself: any token passes.
		return acceptAll{}, nil
	case apps.CaptchaDefault:
		// Only the test tokens pass (dev mode).
	case apps.CaptchaTurnstile, apps.CaptchaHCaptcha:
		url := a.Captcha.VerifyURL
		if url == "" {
			url = captcha.TurnstileURL
			if strings.EqualFold(a.Captcha.Kind, "hcaptcha") {
				url = captcha.HCaptchaURL
			}
		}
		sv, err := captcha.NewSiteverify(captcha.SiteverifyConfig{URL: url, Secret: a.Captcha.Secret})
		if err != nil {
			return nil, err
		}
		real = captcha.NewSingleUse(rt.Store, captchaTokenTTL, sv)
	case apps.CaptchaSlider:
		// Single use by itself: a verified token is taken from the store.
		real = g.slider
	case apps.CaptchaAltcha:
		// Single use by itself: a solution is marked spent in the store.
		real = rt.Altcha
	default:
		return nil, fmt.Errorf("captcha.kind %q: want none, slider, altcha, turnstile or hcaptcha", a.Captcha.Kind)
	}
	return captcha.NewTestTokens(a.Captcha.TestTokens, real), nil
}

// acceptAll is the captcha check of applications whose kind is none. It
// binds no token to a number (captcha.Unbound), so a send makes no binding
// for it.
type acceptAll struct{}

func (acceptAll) Verify(context.Context, captcha.Request) error { return nil }

func (acceptAll) Unbound() {}

func templateOverrides(a *apps.App) map[string]map[string]string {
	out := make(map[string]map[string]string, len(a.Templates))
	for lang, byScenario := range a.Templates {
		out[lang] = make(map[string]string, len(byScenario))
		for s, text := range byScenario {
			out[lang][string(s)] = text
		}
	}
	return out
}

// Ping is used by callers that want to fail fast at start-up when the store
// is unreachable.
func (r *Runtime) Ping(ctx context.Context) error { return r.Store.Ping(ctx) }

// buildAudit makes the audit trail from its sinks' configuration; nil when
// none is set. Its drops and failures are counted on the service's
// registry and logged.
func buildAudit(cfg config.AuditConfig, rt *Runtime) (*audit.Trail, error) {
	var sinks []audit.Named
	if cfg.File != nil {
		f, err := audit.NewFile(*cfg.File)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, audit.Named{Name: "file", Sink: f})
	}
	if cfg.Webhook != nil {
		w, err := audit.NewWebhook(*cfg.Webhook, nil)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, audit.Named{Name: "webhook", Sink: w})
	}
	if len(sinks) == 0 {
		return nil, nil
	}
	t, err := audit.New(audit.Config{QueueSize: cfg.QueueSize}, sinks, rt.Metrics.Registry(), rt.log)
	if err != nil {
		return nil, err
	}
	rt.closers = append(rt.closers, t.Close)
	return t, nil
}

// auditor is the audit trail as the pipeline takes it: a nil interface, not
// a nil *audit.Trail, when there is none, so the pipeline skips building
// events.
func (r *Runtime) auditor() sender.Auditor {
	if r.Audit == nil {
		return nil
	}
	return r.Audit
}

// onSettled is what the receipts service calls for each settled message:
// an audit event with its final status ("later its receipt status"), and
// Overrides.OnDelivery.
func (r *Runtime) onSettled(ctx context.Context, d store.Delivery) {
	if r.Audit != nil {
		r.Audit.Record(audit.Event{
			Time: d.SettledAt, Type: audit.TypeReceipt, ClientID: d.ClientID, Scenario: d.Scenario,
			Outcome: string(d.Status), CountryCode: d.CallingCode, Provider: d.Provider, MessageID: d.MessageID,
		})
	}
	if r.o.OnDelivery != nil {
		r.o.OnDelivery(ctx, d)
	}
}
