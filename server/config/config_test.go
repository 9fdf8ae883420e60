package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsServeTheOneAccessExample(t *testing.T) {
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !cfg.DevMode || cfg.Addr != "127.0.0.1:8080" || len(cfg.Apps) != 1 || cfg.Providers[0].Kind != "log" {
		t.Fatalf("defaults: %+v", cfg)
	}
	a := cfg.Apps[0]
	if a.ClientID != "DRrYIqauawN0I8myTMoDTPys6ezGZxnm" || a.TenantID != "08f770f51f80d2f40f38c00cb199fd21" ||
		len(a.Captcha.TestTokens) != 1 || a.Captcha.TestTokens[0] != `71d******635---{"x":237.0,"y":5.0}` {
		t.Fatalf("demo app: %+v", a)
	}
}

func TestLoadExpandsEnvironmentAndOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smscode.yaml")
	write(t, path, `
addr: 0.0.0.0:9000
secret: ${TEST_SMSCODE_SECRET}
providers:
  - {name: log, kind: log}
dev_mode: true
apps:
  - client_id: app1
`)
	t.Setenv("TEST_SMSCODE_SECRET", strings.Repeat("ab", 32))
	t.Setenv(EnvAddr, "127.0.0.1:7000")
	t.Setenv(EnvMetricsAddr, "127.0.0.1:7001")
	t.Setenv(EnvRedisURL, "redis://127.0.0.1:6379/0")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secret != strings.Repeat("ab", 32) || cfg.Addr != "127.0.0.1:7000" || cfg.MetricsAddr != "127.0.0.1:7001" ||
		cfg.Store.Kind != "redis" || cfg.Store.Redis.URL != "redis://127.0.0.1:6379/0" {
		t.Fatalf("got %+v", cfg)
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key (a typo is not ignored)", "adr: x\n", "field adr not found"},
		{"metrics on the API's address", "dev_mode: true\naddr: 127.0.0.1:8080\nmetrics_addr: 127.0.0.1:8080\n", "metrics_addr"},
		{"test tokens outside dev mode", `
secret: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
providers: [{name: hook, kind: log}]
apps: [{client_id: a, captcha: {test_tokens: [t]}}]
`, "test tokens are allowed only in dev mode"},
		{"test numbers outside dev mode", `
secret: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
providers: [{name: hook, kind: log}]
apps: [{client_id: a, test_numbers: {"13800000000": "123456"}}]
`, "test numbers are allowed only in dev mode"},
		{"no secret outside dev mode", `
providers: [{name: p, kind: log}]
apps: [{client_id: a}]
`, "secret is required"},
		{"log provider outside dev mode", `
secret: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
providers: [{name: p, kind: log}]
apps: [{client_id: a}]
`, "allowed only in dev mode"},
		{"unknown provider name", `
dev_mode: true
providers: [{name: p, kind: log}]
apps: [{client_id: a, providers: [q]}]
`, `no provider named "q"`},
		{"unknown store", `
dev_mode: true
store: {kind: etcd}
providers: [{name: p, kind: log}]
apps: [{client_id: a}]
`, "store.kind"},
		{"negative memory store cap", `
dev_mode: true
store: {memory: {max_entries: -1}}
providers: [{name: p, kind: log}]
apps: [{client_id: a}]
`, "store.memory.max_entries"},
		{"no apps", "dev_mode: true\nproviders: [{name: p, kind: log}]\n", "at least one application"},
		{"negative drain delay", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\nshutdown: {drain_delay: -1s}\n", "shutdown: drain_delay"},
		{"negative shutdown timeout", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\nshutdown: {timeout: -1s}\n", "shutdown: drain_delay and timeout"},
		{"auto_block ratio above 1", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\npumping: {auto_block: {max_ratio_of_norm: 2}}\n", "pumping.auto_block: max_ratio_of_norm"},
		{"app auto_block negative volume", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a, auto_block: {min_sends: -5}}]\n", "auto_block: min_sends"},
		{"receipts public_url with a query", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\nreceipts: {public_url: \"https://sms.example.com/?x=1\"}\n", "receipts.public_url"},
		{"receipts public_url without scheme", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\nreceipts: {public_url: sms.example.com}\n", "receipts.public_url"},
		{"receipts wait over ttl", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\nreceipts: {ttl: 1h, wait: 2h}\n", "1s <= wait <= ttl"},
		{"receipts wait over the default ttl", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\nreceipts: {wait: 25h}\n", "1s <= wait <= ttl"},
		{"receipts negative sweep", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\nreceipts: {sweep_interval: -1s}\n", "must not be negative"},
		{"auto_block unknown key", "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\npumping: {auto_block: {min_send: 5}}\n", "min_send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			write(t, path, tt.yaml)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// shutdown.drain_delay is 5s when a file does not mention it and what it
// says when it does, 0 included; the embedded dev defaults drain for 0s.
// shutdown.timeout 0 is the 15s default.
func TestShutdownDefaults(t *testing.T) {
	const base = "dev_mode: true\nproviders: [{name: p, kind: log}]\napps: [{client_id: a}]\n"
	for _, tc := range []struct {
		name, yaml   string
		drain, grace time.Duration
	}{
		{"absent", base, DefaultDrainDelay, DefaultShutdownTimeout},
		{"explicit 0", base + "shutdown: {drain_delay: 0s}\n", 0, DefaultShutdownTimeout},
		{"set", base + "shutdown: {drain_delay: 20s, timeout: 40s}\n", 20 * time.Second, 40 * time.Second},
		{"timeout only", base + "shutdown: {timeout: 3s}\n", DefaultDrainDelay, 3 * time.Second},
		{"the embedded defaults", "", 0, DefaultShutdownTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = filepath.Join(t.TempDir(), "c.yaml")
				write(t, path, tc.yaml)
			}
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Shutdown.DrainDelay != tc.drain || cfg.Shutdown.GraceTimeout() != tc.grace {
				t.Errorf("drain_delay %v, timeout %v; want %v, %v", cfg.Shutdown.DrainDelay, cfg.Shutdown.GraceTimeout(), tc.drain, tc.grace)
			}
		})
	}
}

// FuzzParse: no configuration text makes the loader panic.
func FuzzParse(f *testing.F) {
	f.Add(string(defaultsYAML))
	f.Add("apps: [{client_id: a, code: {ttl: 5m}}]\n")
	f.Add("limits: {number_cooldown: -1s}\n")
	f.Add("{")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := parse([]byte(s))
		if err == nil {
			_ = cfg.Validate()
		}
	})
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
