// Package servertest starts the real smscode server on a loopback port for
// tests: the real HTTP layer, validator and send pipeline, on an in-memory
// store whose clock the test moves, with a provider that records messages.
// Client tests, end-to-end tests and examples use it.
package servertest

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/audittest"
	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/webhook"
	"github.com/smscode/smscode/server/sms/webhook/webhooktest"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/memstore"
	"github.com/smscode/smscode/server/wire"
)

// The OneAccess example application, registered by default.
const (
	ClientID     = seed.ClientID
	TenantID     = seed.TenantID
	CaptchaToken = seed.CaptchaToken
)

// Env is a running test server.
type Env struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string
	// Outbox records every message a provider accepted.
	Outbox *sms.Memory
	// Clock is the store's clock; Advance moves limits and code expiry.
	Clock   *Clock
	Runtime *wire.Runtime
	HTTP    *httptest.Server
	// AuditFile is the audit trail's JSON Lines file ("" when the test
	// configured its own sinks); complete once the runtime is closed.
	AuditFile string
}

// Option changes the configuration before the server is built.
type Option func(*Setup)

// Setup is what options change.
type Setup struct {
	Config config.Config
	// WrapStore, when set, wraps the memory store (to inject store faults).
	WrapStore func(store.Store) store.Store
	// Log, when set, is the server's logger (default: discarded).
	Log *slog.Logger
}

// WithConfig returns an Option that edits the configuration.
func WithConfig(edit func(*config.Config)) Option {
	return func(s *Setup) { edit(&s.Config) }
}

// New starts a server with the embedded defaults (dev mode and the OneAccess
// example application) on a fake clock, applies opts, and stops it when the
// test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecretFile = filepath.Join(t.TempDir(), "secret")
	cfg.Providers = []config.ProviderConfig{{Name: "primary", Kind: "null"}}
	setup := Setup{Config: cfg}
	for _, o := range opts {
		o(&setup)
	}
	cfg = setup.Config
	// The listener first, so that the receipts' public URL is this
	// server's (a gateway fake posts its receipts to the receipt_url the
	// webhook provider sends, or a test to this URL).
	hs := httptest.NewUnstartedServer(nil)
	t.Cleanup(hs.Close)
	if cfg.Receipts.PublicURL == "" {
		cfg.Receipts.PublicURL = "http://" + hs.Listener.Addr().String()
	}
	// Every test server keeps an audit trail, checked when the test ends
	// (checkAudit): the whole suite's traffic shows that no event holds a
	// code or a full number, whatever each test sends.
	auditPath := ""
	if cfg.Audit.File == nil && cfg.Audit.Webhook == nil {
		auditPath = filepath.Join(t.TempDir(), "audit.jsonl")
		cfg.Audit.File = &audit.FileConfig{Path: auditPath}
	}
	clock := NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	mem := memstore.New(memstore.Config{Now: clock.Now})
	t.Cleanup(mem.Close)
	var st store.Store = mem
	if setup.WrapStore != nil {
		st = setup.WrapStore(mem)
	}
	outbox := sms.NewNamedMemory("primary")
	log := setup.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt, err := wire.Build(cfg, log, wire.Overrides{
		Store:     st,
		Providers: map[string]sms.Provider{"primary": outbox},
		Now:       clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if auditPath != "" {
		// Registered first, so it runs last: after Close has flushed the trail.
		t.Cleanup(func() { checkAudit(t, auditPath, outbox) })
	}
	t.Cleanup(func() { _ = rt.Close() })
	hs.Config.Handler = rt.Server.Handler()
	hs.Start()
	return &Env{URL: hs.URL, Outbox: outbox, Clock: clock, Runtime: rt, HTTP: hs, AuditFile: auditPath}
}

// checkAudit fails t when an event of the audit file does not match the
// schema, or carries the code or the number of a message the server sent.
func checkAudit(t testing.TB, path string, outbox *sms.Memory) {
	t.Helper()
	events, err := audittest.ReadFile(path)
	if err != nil {
		t.Errorf("audit trail: %v", err)
		return
	}
	var forbidden []string
	for _, m := range outbox.Messages() {
		// The number's last 8 digits: in any unmasked form of it (E.164,
		// national), never in the masked one, which shows at most 4 of them.
		digits := strings.TrimPrefix(m.To, "+")
		forbidden = append(forbidden, m.Code, digits[max(0, len(digits)-8):])
	}
	for _, e := range events {
		if leaks := audittest.Leaks(e, forbidden); len(leaks) > 0 {
			t.Errorf("audit event %+v carries %d forbidden values (a code or a full number)", e, len(leaks))
		}
	}
}

// WithWebhookGateway adds a webhook provider named name that sends to gw
// (signed with gw.Secret) and makes it every application's only
// provider: its messages then get delivery receipts (gw.Deliver posts
// them), and the Outbox stays empty.
func WithWebhookGateway(gw *webhooktest.Gateway, name string) Option {
	return func(s *Setup) {
		s.Config.Providers = append(s.Config.Providers, config.ProviderConfig{
			Name: name, Kind: "webhook", Webhook: &webhook.Config{URL: gw.URL, Secret: gw.Secret}})
		for i := range s.Config.Apps {
			s.Config.Apps[i].Providers = []string{name}
		}
		s.Config.DefaultProviders = []string{name}
	}
}

// Clock is a clock that moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
