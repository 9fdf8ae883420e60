package wire_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/wire"
)

// reloadConfig is a dev-mode configuration with two providers and the
// given apps (YAML flow items), whose limits a test never reaches.
func reloadConfig(t *testing.T, extra, apps string) config.Config {
	t.Helper()
	return loadYAML(t, `
dev_mode: true
secret: `+strings.Repeat("ab", 32)+`
providers: [{name: p, kind: "null"}, {name: q, kind: "null"}]
limits: {number_daily: 1000000, device_per_hour: 1000000, ip_per_hour: 1000000, app_daily: 1000000}
pumping: {disabled: true}
`+extra+`
apps: [`+apps+`]
`)
}

// reloadEnv is a built runtime behind a real HTTP server; p is the
// provider named p (a memory provider, whose messages the test counts).
type reloadEnv struct {
	rt  *wire.Runtime
	url string
	p   *sms.Memory
	n   atomic.Int64 // numbers sent to
}

func newReloadEnv(t *testing.T, cfg config.Config) *reloadEnv {
	t.Helper()
	p := sms.NewNamedMemory("p")
	rt, err := wire.Build(cfg, slog.New(slog.DiscardHandler), wire.Overrides{Providers: map[string]sms.Provider{"p": p}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	srv := httptest.NewServer(rt.Server.Handler())
	t.Cleanup(srv.Close)
	return &reloadEnv{rt: rt, url: srv.URL, p: p}
}

// send sends a code for the app (client id, tenant id: "" for none) to a
// number not used before; it returns the status and, for an error, the
// error_code.
func (e *reloadEnv) send(t *testing.T, clientID, tenantID string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"mobile":"138%08d","type":"BIND_MOBILE_SMS","captcha_token":"x"}`, e.n.Add(1))
	req, err := http.NewRequest(http.MethodPost, e.url+"/api/v2/sdk/sms/send", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = seed.Headers()
	req.Header.Set("X-client-id", clientID)
	if tenantID == "" {
		req.Header.Del("X-tenant-id")
	} else {
		req.Header.Set("X-tenant-id", tenantID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var e2 struct {
		Code string `json:"error_code"`
	}
	if res.StatusCode != http.StatusOK {
		if err := json.Unmarshal(b, &e2); err != nil {
			t.Fatalf("error body %q: %v", b, err)
		}
	}
	return res.StatusCode, e2.Code
}

func (e *reloadEnv) want(t *testing.T, clientID, tenantID string, status int, code string) {
	t.Helper()
	if s, c := e.send(t, clientID, tenantID); s != status || c != code {
		t.Fatalf("send as %s/%s: %d %s, want %d %s", clientID, tenantID, s, c, status, code)
	}
}

// Reload adds and removes applications and ISV tenants while the server
// runs: an added one's sends start to succeed, a removed one's get the
// documented unknown-application error (400 APP.0001).
func TestReloadAppsComeAndGo(t *testing.T) {
	const app1 = `{client_id: a1, captcha: {kind: none}}`
	const isv = `{client_id: a2, tenant_id: t2, captcha: {kind: none}}`
	e := newReloadEnv(t, reloadConfig(t, "", app1))
	e.want(t, "a1", "", 200, "")
	e.want(t, "a2", "t2", 400, "APP.0001")

	steps := []struct {
		name string
		apps string
		want map[[2]string]string // (client, tenant) -> "" (sent) or the error code
	}{
		{"tenant added", app1 + ", " + isv, map[[2]string]string{{"a1", ""}: "", {"a2", "t2"}: ""}},
		{"first app removed", isv, map[[2]string]string{{"a1", ""}: "APP.0001", {"a2", "t2"}: ""}},
		{"tenant moved", `{client_id: a2, tenant_id: t3, captcha: {kind: none}}`,
			map[[2]string]string{{"a2", "t2"}: "APP.0001", {"a2", "t3"}: ""}},
		{"first app back", app1, map[[2]string]string{{"a1", ""}: "", {"a2", "t3"}: "APP.0001"}},
	}
	for _, s := range steps {
		if err := e.rt.Reload(reloadConfig(t, "", s.apps)); err != nil {
			t.Fatalf("%s: reload: %v", s.name, err)
		}
		for who, code := range s.want {
			status := 200
			if code != "" {
				status = 400
			}
			if st, c := e.send(t, who[0], who[1]); st != status || c != code {
				t.Errorf("%s: send as %s/%s: %d %s, want %d %s", s.name, who[0], who[1], st, c, status, code)
			}
		}
	}
	if got := e.rt.LiveConfig().Apps[0].ClientID; got != "a1" {
		t.Errorf("LiveConfig's first app %q, want a1", got)
	}
}

// A configuration that does not validate, does not build, or changes a
// setting that only a restart applies is refused as a whole: Reload says
// why, and the running configuration keeps serving.
func TestReloadRefused(t *testing.T) {
	const app1 = `{client_id: a1, captcha: {kind: none}}`
	e := newReloadEnv(t, reloadConfig(t, "", app1))
	secret := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name    string
		edit    func(*config.Config)
		restart bool   // errors.Is ErrNeedsRestart
		want    string // in the error
	}{
		{"unknown provider", func(c *config.Config) { c.Apps[0].Providers = []string{"nope"} }, false, `no provider named "nope"`},
		{"no apps", func(c *config.Config) { c.Apps = nil }, false, "at least one application"},
		{"unbuildable captcha", func(c *config.Config) { c.Apps[0].Captcha.Kind = "turnstile" }, false, "captcha.secret"},
		{"negative drain", func(c *config.Config) { c.Shutdown.DrainDelay = -1 }, false, "shutdown"},
		{"store", func(c *config.Config) { c.Store.Kind = "redis"; c.Store.Redis.URL = "redis://127.0.0.1:1/0" }, true, "store"},
		{"secret", func(c *config.Config) { c.Secret = strings.Repeat("cd", 32) }, true, "secret"},
		{"addr", func(c *config.Config) { c.Addr = "127.0.0.1:1" }, true, "addr"},
		{"http", func(c *config.Config) { c.HTTP.BodyLimit = 100 }, true, "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := reloadConfig(t, "", `{client_id: a2, captcha: {kind: none}}`)
			tc.edit(&cfg)
			err := e.rt.Reload(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, wire.ErrNeedsRestart) != tc.restart {
				t.Fatalf("Reload: %v, want an error mentioning %q (needs restart: %v)", err, tc.want, tc.restart)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), strings.Repeat("cd", 32)) {
				t.Errorf("the error shows a secret: %v", err)
			}
			// The old configuration serves, the refused one does not.
			e.want(t, "a1", "", 200, "")
			e.want(t, "a2", "", 400, "APP.0001")
		})
	}
}

// Failover chains register collectors with a chain label on the one
// metrics registry: a reload keeps an unchanged chain (its counters and
// breakers go on), replaces a changed one under the same label (no
// duplicate-registration error, /metrics still gathers) and takes a
// removed one's series off.
func TestReloadChainMetrics(t *testing.T) {
	const onP = `{client_id: a1, captcha: {kind: none}, providers: [p]}`
	e := newReloadEnv(t, reloadConfig(t, "", onP))
	e.want(t, "a1", "", 200, "")
	e.want(t, "a1", "", 200, "")
	if got := accepted(t, e, "p"); got != 2 {
		t.Fatalf("accepted on chain p: %v, want 2", got)
	}
	steps := []struct {
		name, extra, apps string
		sends             int
		wantP             float64 // accepted on chain p afterwards; -1: no series
		wantQ             float64
	}{
		{"unchanged chain, app added", "", onP + `, {client_id: a2, captcha: {kind: none}, providers: [p]}`, 1, 3, -1},
		{"failover changed: chain p replaced", "failover: {timeout: 2s}", onP, 1, 1, -1},
		{"chain p removed, q added", "failover: {timeout: 2s}", `{client_id: a1, captcha: {kind: none}, providers: [q]}`, 1, -1, 1},
	}
	for _, s := range steps {
		if err := e.rt.Reload(reloadConfig(t, s.extra, s.apps)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for range s.sends {
			e.want(t, "a1", "", 200, "")
		}
		if got := accepted(t, e, "p"); got != s.wantP {
			t.Errorf("%s: accepted on chain p: %v, want %v", s.name, got, s.wantP)
		}
		if got := accepted(t, e, "q"); got != s.wantQ {
			t.Errorf("%s: accepted on chain q: %v, want %v", s.name, got, s.wantQ)
		}
		res, err := http.Get(e.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: GET /metrics: %d", s.name, res.StatusCode)
		}
	}
	if got := e.p.Count(); got != 4 {
		t.Errorf("provider p got %d messages, want 4", got)
	}
}

// accepted sums the counters with the labels chain=chain, outcome=accepted
// (whatever the failover names them), or -1 when there is none.
func accepted(t *testing.T, e *reloadEnv, chain string) float64 {
	t.Helper()
	mfs, err := e.rt.Metrics.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	sum, found := 0.0, false
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "chain") == chain && label(m, "outcome") == "accepted" {
				sum, found = sum+m.GetCounter().GetValue(), true
			}
		}
	}
	if !found {
		return -1
	}
	return sum
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A request in flight when a reload removes its application and changes
// its chain finishes on the configuration it started with: the send held
// in its provider is released after the reload and answers 200, its SMS
// sent through the old chain; the next send for that application gets the
// unknown-application error.
func TestReloadInFlightFinishesOnOldConfig(t *testing.T) {
	e := newReloadEnv(t, reloadConfig(t, "", `{client_id: a1, captcha: {kind: none}, providers: [p]}, {client_id: a2, captcha: {kind: none}, providers: [q]}`))
	arrived, release := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	e.p.SetFailure(func(sms.Message) error {
		if once.CompareAndSwap(false, true) {
			close(arrived)
			<-release
		}
		return nil
	})
	type result struct {
		status int
		code   string
	}
	done := make(chan result, 1)
	go func() {
		s, c := e.send(t, "a1", "")
		done <- result{s, c}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the send never reached its provider")
	}
	// a1 removed; a2's chain changed to p (so the old chain [p] of a1 is
	// no longer any app's).
	if err := e.rt.Reload(reloadConfig(t, "", `{client_id: a2, captcha: {kind: none}, providers: [q, p]}`)); err != nil {
		t.Fatal(err)
	}
	e.want(t, "a1", "", 400, "APP.0001")
	close(release)
	select {
	case r := <-done:
		if r.status != http.StatusOK {
			t.Fatalf("the in-flight send answered %d %s, want 200 on the configuration it started with", r.status, r.code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight send never answered")
	}
	if n := len(e.p.Messages()); n != 1 {
		t.Fatalf("provider p holds %d messages, want the in-flight send's one", n)
	}
}
