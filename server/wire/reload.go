package wire

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/sender"
	"github.com/smscode/smscode/server/sms"
)

// generation is what one configuration makes and a reload replaces: the
// application registry, the providers and their failover chains, the
// slider and the send pipeline over them. A request runs on the generation
// it started with (liveService loads it once per call), so in-flight
// requests finish on the configuration they began with.
type generation struct {
	cfg       config.Config
	reg       *apps.Registry
	svc       *sender.Service
	slider    *slider.Slider
	providers map[string]sms.Provider
	chains    map[string]*chainEntry
	// demo is the /demo page for the first application, nil without a demo;
	// outbox is the dev-mode log provider that /demo/outbox reads.
	demo   http.Handler
	outbox *sms.Log
}

// chainEntry is one failover chain and the collectors it registers (with
// its chain label), which install puts on the metrics registry and takes
// off again when a later generation no longer uses the chain.
type chainEntry struct {
	provider   sms.Provider
	members    []sms.Provider
	collectors []prometheus.Collector
}

// newGeneration makes a generation from cfg. Providers whose configuration
// is unchanged from prev, and chains whose members and failover settings
// are, are reused, so that a reload keeps their state (circuit breakers,
// connection pools, the dev outbox) and their counters. It registers no
// collector: install does, once the generation is complete.
func (r *Runtime) newGeneration(cfg config.Config, prev *generation) (*generation, error) {
	reg, err := apps.NewRegistry(cfg.Apps)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	g := &generation{cfg: cfg, reg: reg, providers: map[string]sms.Provider{}, chains: map[string]*chainEntry{}}
	for _, p := range cfg.Providers {
		if prov, ok := r.o.Providers[p.Name]; ok {
			g.providers[p.Name] = prov
			continue
		}
		if prev != nil && prev.providers[p.Name] != nil && reflect.DeepEqual(providerConfig(prev.cfg, p.Name), p) &&
			prev.cfg.Receipts.PublicURL == cfg.Receipts.PublicURL {
			g.providers[p.Name] = prev.providers[p.Name]
			continue
		}
		prov, err := buildProvider(p, cfg.Receipts, r.log)
		if err != nil {
			return nil, err
		}
		g.providers[p.Name] = prov
	}
	if prev != nil && reflect.DeepEqual(prev.cfg.Slider, cfg.Slider) {
		g.slider = prev.slider
	} else {
		g.slider, err = slider.New(slider.Config{
			PuzzleTTL: cfg.Slider.PuzzleTTL, TokenTTL: cfg.Slider.TokenTTL,
			Tolerance: cfg.Slider.Tolerance, Now: r.o.Now,
			PuzzlesPerSecond: cfg.Slider.PuzzlesPerSecond, PuzzleBurst: cfg.Slider.PuzzleBurst,
			MaxDrawing: cfg.Slider.MaxDrawing,
		}, r.Store)
		if err != nil {
			return nil, fmt.Errorf("config: slider: %w", err)
		}
	}
	channels := make(map[string]sender.Channel, len(cfg.Apps))
	for _, a := range reg.Apps() {
		ch, err := buildChannel(cfg, a, r, g, prev)
		if err != nil {
			return nil, fmt.Errorf("config: app %s: %w", a.ClientID, err)
		}
		channels[a.Scope()] = ch
	}
	g.svc, err = sender.New(sender.Deps{
		Apps: reg, Store: r.Store, Hasher: r.hasher, Channels: channels,
		Log: r.log, Metrics: r.Metrics, Slider: g.slider, Altcha: r.Altcha,
		TracerProvider: r.o.TracerProvider, Deliveries: r.Receipts, Audit: r.auditor(),
	})
	if err != nil {
		return nil, err
	}
	g.demo, g.outbox = demoPage(cfg, g)
	return g, nil
}

func providerConfig(cfg config.Config, name string) config.ProviderConfig {
	for _, p := range cfg.Providers {
		if p.Name == name {
			return p
		}
	}
	return config.ProviderConfig{}
}

// install makes next the live generation: it takes the collectors of old's
// chains that next does not reuse off the metrics registry, puts next's
// new chains' on it, then swaps. Taking before putting is what lets a
// changed chain register again under the same chain label (the registry
// refuses two collectors with the same descriptors). A changed chain's
// counters start again from zero, which Prometheus's rate() reads as a
// counter reset. On error nothing has changed.
func (r *Runtime) install(old, next *generation) error {
	reg := r.Metrics.Registry()
	var dropped, added []*chainEntry
	if old != nil {
		for key, c := range old.chains {
			if next.chains[key] != c {
				dropped = append(dropped, c)
			}
		}
	}
	for key, c := range next.chains {
		if old == nil || old.chains[key] != c {
			added = append(added, c)
		}
	}
	for _, c := range dropped {
		for _, col := range c.collectors {
			reg.Unregister(col)
		}
	}
	var done []prometheus.Collector
	for _, c := range added {
		for _, col := range c.collectors {
			if err := reg.Register(col); err != nil {
				// Put everything back as it was.
				for _, d := range done {
					reg.Unregister(d)
				}
				for _, c := range dropped {
					for _, col := range c.collectors {
						_ = reg.Register(col)
					}
				}
				return fmt.Errorf("config: metrics of a failover chain: %w", err)
			}
			done = append(done, col)
		}
	}
	r.live.Store(next)
	return nil
}

// restartOnly are the settings a reload cannot change: the listeners, the
// store and its connections, the secret every stored code is hashed with,
// the logger, the HTTP server and its middleware, and the switches that
// decide which routes exist (dev mode, the demo). A reload that changes one
// is refused as a whole, so that what runs is always one file's content.
var restartOnly = []struct {
	key string
	get func(config.Config) any
}{
	{"addr", func(c config.Config) any { return c.Addr }},
	{"metrics_addr", func(c config.Config) any { return c.MetricsAddr }},
	{"dev_mode", func(c config.Config) any { return c.DevMode }},
	{"secret", func(c config.Config) any { return c.Secret }},
	{"secret_file", func(c config.Config) any { return c.SecretFile }},
	{"log", func(c config.Config) any { return c.Log }},
	{"http", func(c config.Config) any { return c.HTTP }},
	{"store", func(c config.Config) any { return c.Store }},
	{"demo", func(c config.Config) any { return c.Demo }},
	{"audit", func(c config.Config) any { return c.Audit }},
	// The receipts service (and its sweeper) is made once; public_url is
	// the providers', rebuilt by a reload.
	{"receipts.ttl", func(c config.Config) any { return c.Receipts.TTL }},
	{"receipts.wait", func(c config.Config) any { return c.Receipts.Wait }},
	{"receipts.sweep_interval", func(c config.Config) any { return c.Receipts.SweepInterval }},
}

// ErrNeedsRestart is what Reload returns (wrapped, with the keys) when the
// new configuration changes a setting that only a restart applies.
var ErrNeedsRestart = errors.New("needs a restart")

// Reload makes cfg the live configuration, for the requests that start
// from now on: apps, tenants, templates, limits, pumping, slider, failover
// and providers. In-flight requests finish on the configuration they
// started with. cfg is refused, and the running configuration kept, when it
// does not validate, when something in it cannot be built, or when it
// changes a restart-only setting (ErrNeedsRestart; the error names the keys,
// never their values). Reload is safe to call while requests are served;
// calls are serialised.
func (r *Runtime) Reload(cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	old := r.live.Load()
	var changed []string
	for _, k := range restartOnly {
		if !reflect.DeepEqual(k.get(old.cfg), k.get(cfg)) {
			changed = append(changed, k.key)
		}
	}
	if len(changed) > 0 {
		return fmt.Errorf("config: %s changed: %w", strings.Join(changed, ", "), ErrNeedsRestart)
	}
	next, err := r.newGeneration(cfg, old)
	if err != nil {
		return err
	}
	return r.install(old, next)
}

// Check reports whether cfg would build: Validate, then everything Build
// makes from it (the application registry, templates, captcha verifiers,
// providers, failover chains and their metrics, the slider, the HTTP
// server), without opening a connection or writing a file. What it cannot
// know offline: whether Redis, the SMS providers and the captcha issuers
// answer and accept the credentials, whether the addresses can be listened
// on, and, in dev mode without a secret, the secret file (Build creates
// it). It is what `smscode check-config` runs.
func Check(cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	// The secret is parsed as Build parses it; in dev mode without one, a
	// throwaway secret stands in for the file Build would read or create.
	probe := cfg
	probe.SecretFile = ""
	if probe.Secret == "" {
		probe.Secret = strings.Repeat("00", 32)
	}
	if probe.Store.Kind == "redis" {
		// NewClient checks the options and does not connect; the build
		// below then runs on a memory store.
		if err := checkRedis(cfg); err != nil {
			return err
		}
		probe.Store = config.StoreConfig{}
	}
	rt, err := Build(probe, nil, Overrides{})
	if err != nil {
		return err
	}
	return rt.Close()
}

// liveService is the server.Service the HTTP server calls: each call goes
// to the live generation's pipeline, loaded once, so a request runs on one
// configuration from start to end.
type liveService struct{ rt *Runtime }

func (l liveService) svc() *sender.Service { return l.rt.live.Load().svc }

func (l liveService) Send(ctx context.Context, req sender.SendRequest) (sender.SendResult, error) {
	return l.svc().Send(ctx, req)
}

func (l liveService) Verify(ctx context.Context, req sender.VerifyRequest) error {
	return l.svc().Verify(ctx, req)
}

func (l liveService) Puzzle(ctx context.Context, c sender.Caller) (slider.Puzzle, error) {
	return l.svc().Puzzle(ctx, c)
}

func (l liveService) CheckCaptcha(ctx context.Context, req sender.CaptchaCheck) (string, error) {
	return l.svc().CheckCaptcha(ctx, req)
}

func (l liveService) AltchaChallenge(ctx context.Context, c sender.Caller) (altcha.Challenge, error) {
	return l.svc().AltchaChallenge(ctx, c)
}

func (l liveService) CountryCodes(ctx context.Context, c sender.Caller) (sender.CountryCodes, error) {
	return l.svc().CountryCodes(ctx, c)
}

func (l liveService) Ready(ctx context.Context) error { return l.svc().Ready(ctx) }
