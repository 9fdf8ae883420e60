package wire_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/wire"
)

// The example configuration in the repository loads (with its ${VAR}
// references set), so it cannot drift from the code.
func TestExampleConfigLoads(t *testing.T) {
	for _, v := range exampleEnv {
		t.Setenv(v[0], v[1])
	}
	cfg, err := config.Load(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Apps) == 0 || len(cfg.Providers) != 4 {
		t.Fatalf("example: %+v", cfg)
	}
	// It states the shutdown defaults.
	if cfg.Shutdown.DrainDelay != config.DefaultDrainDelay || cfg.Shutdown.GraceTimeout() != config.DefaultShutdownTimeout {
		t.Errorf("example shutdown: %+v, want the defaults", cfg.Shutdown)
	}
	if cfg.Audit.File == nil || cfg.Audit.Webhook == nil {
		t.Errorf("example audit: %+v, want both sinks shown", cfg.Audit)
	}
	if err := wire.Check(cfg); err != nil {
		t.Errorf("Check: %v", err)
	}
	// It also builds: every provider and the app's captcha are valid.
	rt, err := wire.Build(cfg, slog.New(slog.DiscardHandler), wire.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	_ = rt.Close()
}

// exampleEnv are the variables config.example.yaml refers to.
var exampleEnv = [][2]string{
	{"SMSCODE_SECRET", strings.Repeat("cd", 32)},
	{"HUAWEI_SMS_APP_KEY", "key"}, {"HUAWEI_SMS_APP_SECRET", "secret"},
	{"ALIYUN_ACCESS_KEY_ID", "id"}, {"ALIYUN_ACCESS_KEY_SECRET", "secret"},
	{"TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"}, {"TWILIO_AUTH_TOKEN", "token"},
	{"SMS_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	{"TURNSTILE_SECRET", "turnstile-secret"},
	{"AUDIT_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
}

// store.memory.max_entries reaches the memory store: past it, new entries
// are refused with store.ErrFull.
func TestMemoryStoreMaxEntries(t *testing.T) {
	cfg := loadYAML(t, `
dev_mode: true
store: {kind: memory, memory: {max_entries: 64}}
providers: [{name: p, kind: log}]
apps: [{client_id: a}]
`)
	cfg.SecretFile = filepath.Join(t.TempDir(), "secret")
	rt, err := wire.Build(cfg, slog.New(slog.DiscardHandler), wire.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	stored := 0
	for i := range 100 {
		_, err := rt.Store.UseOnce(context.Background(), fmt.Sprintf("{%d}:u", i), time.Minute)
		if errors.Is(err, store.ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stored++
	}
	if stored != 64 {
		t.Fatalf("%d entries stored before ErrFull, want 64", stored)
	}
}

// loadYAML is the configuration that config.Load reads from a file of yaml.
func loadYAML(t *testing.T, yaml string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, path, yaml)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
