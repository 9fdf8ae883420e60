// Package config loads the server's configuration (a YAML file, environment
// overrides, and the embedded defaults that `make run` serves) and validates
// it. It builds nothing: package wire assembles the running service from a
// Config.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/sender"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/store/redisstore"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// Config is the whole configuration. config.example.yaml documents every
// field; zero values take the defaults stated there.
type Config struct {
	// Addr is the listen address. Default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
	// MetricsAddr, when set, is the listen address of a second listener
	// that serves only /metrics, which the API listener then does not
	// serve: operators can keep the metrics off the network the API faces.
	// Default empty: /metrics is served on Addr with the API.
	MetricsAddr string `yaml:"metrics_addr"`
	// DevMode allows what only development may do: captcha test tokens,
	// a generated HMAC secret, the log SMS provider. Default false.
	DevMode bool `yaml:"dev_mode"`
	// Secret is the HMAC key for stored codes: hex or base64 of at least 32
	// bytes. Required outside dev mode (use ${ENV} or SMSCODE_SECRET). In dev
	// mode, when empty, one is generated and kept in SecretFile.
	Secret string `yaml:"secret"`
	// SecretFile is where dev mode keeps a generated secret. Default
	// .smscode/secret (relative to the working directory).
	SecretFile string `yaml:"secret_file"`
	// Log sets the log level (debug, info, warn, error). Default info.
	Log LogConfig `yaml:"log"`
	// HTTP configures the HTTP layer: limits, timeouts, trusted proxies.
	HTTP server.Config `yaml:"http"`
	// Store is where limits, codes and used tokens are kept.
	Store StoreConfig `yaml:"store"`
	// Limits are the server-wide sending limits; apps may override them.
	Limits sender.Limits `yaml:"limits"`
	// Pumping is the SMS-pumping defence.
	Pumping sender.Pumping `yaml:"pumping"`
	// Slider configures the built-in slider CAPTCHA (OneAccess's), used by
	// apps whose captcha kind is slider.
	Slider SliderConfig `yaml:"slider"`
	// Demo serves the demo page at /demo. Default: on in dev mode only.
	Demo *bool `yaml:"demo"`
	// Providers are the SMS providers, by name.
	Providers []ProviderConfig `yaml:"providers"`
	// Failover sets the per-provider timeout and circuit breakers of every
	// failover chain.
	Failover failover.Config `yaml:"failover"`
	// DefaultProviders is the failover chain (provider names, in order) of
	// apps that name none. Default: every provider, in the order listed.
	DefaultProviders []string `yaml:"default_providers"`
	// Apps are the registered applications.
	Apps []apps.App `yaml:"apps"`
	// Shutdown sets what happens on SIGTERM: how long /readyz answers 503
	// before the listeners close, and how long in-flight requests then get.
	Shutdown ShutdownConfig `yaml:"shutdown"`
	// Receipts configures the delivery receipts (receipts.go).
	Receipts ReceiptsConfig `yaml:"receipts"`
	// Audit is the audit trail: one event per send and verify decision,
	// to a JSON Lines file and/or a signed webhook. Default: off.
	Audit AuditConfig `yaml:"audit"`
}

// AuditConfig configures the audit trail's sinks (package audit). With
// neither sink set, there is no audit trail.
type AuditConfig struct {
	// QueueSize is how many events may wait for each sink before new ones
	// are dropped (counted in smscode_audit_events_total). Default 10000.
	QueueSize int `yaml:"queue_size"`
	// File writes JSON Lines, rotated by size.
	File *audit.FileConfig `yaml:"file"`
	// Webhook posts batches signed as Standard Webhooks sign, for a SIEM.
	Webhook *audit.WebhookConfig `yaml:"webhook"`
}

// ShutdownConfig is the termination sequence: on SIGTERM (or SIGINT) /readyz
// answers 503 at once while everything else is still served for DrainDelay,
// so that a load balancer stops sending new requests first; then the
// listeners close and in-flight requests get Timeout to finish.
type ShutdownConfig struct {
	// DrainDelay is how long the server keeps serving after the signal,
	// with /readyz answering 503. Default 5s when the key is absent (a
	// file that does not mention it); 0 closes the listeners at once. The
	// embedded development defaults (make run) set 0, so Ctrl-C is
	// immediate. Keep it above the load balancer's readiness period
	// (Kubernetes: periodSeconds × failureThreshold of the readiness probe).
	DrainDelay time.Duration `yaml:"drain_delay"`
	// Timeout is how long in-flight requests get to finish once the
	// listeners are closed. 0: the default, 15s.
	Timeout time.Duration `yaml:"timeout"`
}

// The shutdown defaults.
const (
	DefaultDrainDelay      = 5 * time.Second
	DefaultShutdownTimeout = 15 * time.Second
)

// GraceTimeout is Timeout, or its default when zero.
func (s ShutdownConfig) GraceTimeout() time.Duration {
	if s.Timeout == 0 {
		return DefaultShutdownTimeout
	}
	return s.Timeout
}

// SliderConfig configures the slider CAPTCHA; zero values take the
// defaults stated on each field.
type SliderConfig struct {
	// PuzzleTTL is how long a puzzle can be answered. Default 2m.
	PuzzleTTL time.Duration `yaml:"puzzle_ttl"`
	// TokenTTL is how long a verified captcha_token can be sent. Default 3m.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// Tolerance is how many pixels off the hole a slide may stop. Default 5.
	Tolerance float64 `yaml:"tolerance"`
	// PuzzlesPerSecond is the global budget of puzzles this instance draws
	// a second, all clients together; beyond it (and PuzzleBurst) a puzzle
	// request gets 429 CAPTCHA.0007 with Retry-After. Default 50.
	PuzzlesPerSecond float64 `yaml:"puzzles_per_second"`
	// PuzzleBurst is how many puzzles may be drawn at once above the rate.
	// Default 50.
	PuzzleBurst int `yaml:"puzzle_burst"`
	// MaxDrawing is how many puzzles may be drawn at the same time (each
	// holds a core for about 2 ms). Default 2.
	MaxDrawing int `yaml:"max_drawing"`
}

// LogConfig configures logging.
type LogConfig struct {
	Level string `yaml:"level"`
}

// StoreConfig chooses the store.
type StoreConfig struct {
	// Kind is "memory" (one process; the default) or "redis" (several
	// instances share state).
	Kind   string             `yaml:"kind"`
	Memory MemoryOptions      `yaml:"memory"`
	Redis  redisstore.Options `yaml:"redis"`
}

// MemoryOptions configures the memory store.
type MemoryOptions struct {
	// MaxEntries bounds the entries it holds (limit counters, codes, used
	// tokens, puzzles): a full store refuses new ones, and the requests
	// that need them get 503 SYS.0002. 0: memstore.DefaultMaxEntries
	// (1,000,000, about 60-110 MB).
	MaxEntries int `yaml:"max_entries"`
}

// Default returns the embedded defaults: dev mode, memory store, log
// provider and the OneAccess example application.
func Default() (Config, error) {
	return parse(defaultsYAML)
}

// Load reads a configuration file, expanding ${VAR} references from the
// environment (so secrets need not be written in the file), then applies the
// SMSCODE_* environment overrides. An empty path means the embedded defaults.
func Load(path string) (Config, error) {
	var cfg Config
	var err error
	if path == "" {
		cfg, err = Default()
	} else {
		var raw []byte
		raw, err = os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		cfg, err = parse([]byte(os.Expand(string(raw), os.Getenv)))
	}
	if err != nil {
		return Config{}, err
	}
	if err := cfg.applyEnv(os.LookupEnv); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// parse decodes YAML strictly: an unknown key is an error, not a silently
// ignored typo.
func parse(raw []byte) (Config, error) {
	// Decoding into a Config that holds the defaults whose zero value means
	// something else: an absent key keeps the default, an explicit 0 is 0.
	cfg := Config{Shutdown: ShutdownConfig{DrainDelay: DefaultDrainDelay}}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file (io.EOF) is the zero Config.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// Environment overrides, for the settings a deployment most often sets from
// its environment.
const (
	EnvAddr        = "SMSCODE_ADDR"         // listen address
	EnvMetricsAddr = "SMSCODE_METRICS_ADDR" // the /metrics listener's address
	EnvDevMode     = "SMSCODE_DEV_MODE"     // true or false
	EnvSecret      = "SMSCODE_SECRET"       // HMAC secret (hex or base64)
	EnvRedisURL    = "SMSCODE_REDIS_URL"    // sets store.kind redis with this URL
	EnvLogLevel    = "SMSCODE_LOG_LEVEL"    // debug, info, warn, error
)

func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	if v, ok := lookup(EnvAddr); ok && v != "" {
		c.Addr = v
	}
	if v, ok := lookup(EnvMetricsAddr); ok && v != "" {
		c.MetricsAddr = v
	}
	if v, ok := lookup(EnvDevMode); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("config: %s: %q is not true or false", EnvDevMode, v)
		}
		c.DevMode = b
	}
	if v, ok := lookup(EnvSecret); ok && v != "" {
		c.Secret = v
	}
	if v, ok := lookup(EnvRedisURL); ok && v != "" {
		c.Store.Kind = "redis"
		c.Store.Redis.URL = v
	}
	if v, ok := lookup(EnvLogLevel); ok && v != "" {
		c.Log.Level = v
	}
	return nil
}

// Validate checks what can be checked without building anything: the
// choices, names and the rules that keep production safe.
func (c *Config) Validate() error {
	var errs []error
	switch c.Store.Kind {
	case "", "memory", "redis":
	default:
		errs = append(errs, fmt.Errorf("store.kind %q: want memory or redis", c.Store.Kind))
	}
	if c.Store.Memory.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("store.memory.max_entries %d: want 0 (the default) or more", c.Store.Memory.MaxEntries))
	}
	if c.Secret == "" && !c.DevMode {
		errs = append(errs, fmt.Errorf("secret is required outside dev mode (set it, or %s)", EnvSecret))
	}
	// (Port 0, any free port, is two different ports.)
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		errs = append(errs, fmt.Errorf("metrics_addr %q is addr: leave it empty to serve /metrics with the API", c.MetricsAddr))
	}
	switch strings.ToLower(c.Log.Level) {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	names := map[string]bool{}
	for i, p := range c.Providers {
		if err := p.validate(c.DevMode); err != nil {
			errs = append(errs, fmt.Errorf("providers[%d]: %w", i, err))
		}
		if names[p.Name] {
			errs = append(errs, fmt.Errorf("providers[%d]: name %q used twice", i, p.Name))
		}
		names[p.Name] = true
	}
	if len(c.Providers) == 0 {
		errs = append(errs, errors.New("providers: at least one SMS provider is needed"))
	}
	for _, n := range c.DefaultProviders {
		if !names[n] {
			errs = append(errs, fmt.Errorf("default_providers: no provider named %q", n))
		}
	}
	if len(c.Apps) == 0 {
		errs = append(errs, errors.New("apps: at least one application is needed"))
	} else if _, err := apps.NewRegistry(c.Apps); err != nil {
		errs = append(errs, err)
	}
	if c.Limits.NumberCooldown < 0 || c.Limits.NumberDaily < 0 || c.Limits.DevicePerHour < 0 ||
		c.Limits.IPPerHour < 0 || c.Limits.AppDaily < 0 ||
		c.Limits.VerifyIPPerHour < 0 || c.Limits.VerifyDevicePerHour < 0 || c.Limits.VerifyNumberDaily < 0 {
		errs = append(errs, errors.New("limits: values must not be negative"))
	}
	if c.Shutdown.DrainDelay < 0 || c.Shutdown.Timeout < 0 {
		errs = append(errs, errors.New("shutdown: drain_delay and timeout must not be negative"))
	}
	if c.Pumping.Max < 0 || c.Pumping.Window < 0 || c.Pumping.BlockFor < 0 || c.Pumping.PrefixDigits < 0 {
		errs = append(errs, errors.New("pumping: values must not be negative"))
	}
	if err := c.Pumping.AutoBlock.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("pumping.%w", err))
	}
	for i, a := range c.Apps {
		for _, n := range a.Providers {
			if !names[n] {
				errs = append(errs, fmt.Errorf("apps[%d] (%s): no provider named %q", i, a.ClientID, n))
			}
		}
		if len(a.Captcha.TestTokens) > 0 && !c.DevMode {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): captcha test tokens are allowed only in dev mode", i, a.ClientID))
		}
		if len(a.TestNumbers) > 0 && !c.DevMode {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): test numbers are allowed only in dev mode", i, a.ClientID))
		}
	}
	if err := c.Receipts.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}
