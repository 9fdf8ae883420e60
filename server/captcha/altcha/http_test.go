package altcha_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/wire"
)

// The application the HTTP tests register, with a low difficulty so that
// solving in the test is quick.
const (
	appID      = "altcha-app"
	testMaxNum = 2000
)

// instance is one real server (wire.Build, as cmd/smscode assembles it)
// on a loopback port.
type instance struct {
	url string
	rt  *wire.Runtime
}

// startInstances runs n servers that share one store (real Redis when
// redis is true, else each its own memory store, n must be 1) and one
// secret, each with the altcha application registered.
func startInstances(t *testing.T, n int, redis bool, now func() time.Time) []instance {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "secret")
	var redisURL string
	if redis {
		redisURL = "redis://" + redistest.Start(t).Addr()
	}
	var out []instance
	for range n {
		cfg, err := config.Default()
		if err != nil {
			t.Fatal(err)
		}
		cfg.SecretFile = secret
		if redis {
			cfg.Store.Kind = "redis"
			cfg.Store.Redis.URL = redisURL
		}
		cfg.Apps = append(cfg.Apps, apps.App{
			ClientID: appID, Name: "altcha test",
			Captcha: apps.CaptchaSettings{Kind: apps.CaptchaAltcha, MaxNumber: testMaxNum},
		}, apps.App{ClientID: "slider-app", Captcha: apps.CaptchaSettings{Kind: apps.CaptchaSlider}})
		rt, err := wire.Build(cfg, slog.New(slog.DiscardHandler), wire.Overrides{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(rt.Server.Handler())
		t.Cleanup(func() { _ = rt.Close() })
		t.Cleanup(srv.Close)
		out = append(out, instance{url: srv.URL, rt: rt})
	}
	return out
}

// headers are a browser client's headers for the application.
func headers(clientID string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-operating-sys-version", "Linux")
	h.Set("X-device-fingerprint", "altcha-test-device")
	h.Set("X-agent", "Go test")
	h.Set("X-L", "en")
	h.Set("X-client-id", clientID)
	return h
}

// call does one request and returns the status and the body.
func call(t *testing.T, method, url, clientID, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = headers(clientID)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// challenge fetches a challenge through GET /api/v2/sdk/captcha/altcha.
func challenge(t *testing.T, base string) altcha.Challenge {
	t.Helper()
	status, h, body := call(t, http.MethodGet, base+"/api/v2/sdk/captcha/altcha", appID, "")
	if status != http.StatusOK {
		t.Fatalf("challenge: %d %s", status, body)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Fatalf("challenge Cache-Control %q, want no-store", h.Get("Cache-Control"))
	}
	var c altcha.Challenge
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// send posts a send with token and returns the status and error code.
func send(t *testing.T, base, mobile, token string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"mobile": mobile, "type": "LOGIN_SMS", "captcha_token": token})
	status, _, body := call(t, http.MethodPost, base+"/api/v2/sdk/sms/send", appID, string(b))
	var e struct {
		Code string `json:"error_code"`
	}
	_ = json.Unmarshal(body, &e)
	return status, e.Code
}

// TestHTTPFlow: through the real server on a shared Redis, a challenge
// solved in Go sends a code (200); the same solution is refused on
// either instance; tampered, expired and other applications' solutions
// get their documented codes; an application of another kind has no
// challenge API.
func TestHTTPFlow(t *testing.T) {
	clock := time.Now()
	now := func() time.Time { return clock }
	in := startInstances(t, 2, true, now)
	a, b := in[0].url, in[1].url

	c := challenge(t, a)
	if c.MaxNumber != testMaxNum || c.Algorithm != "SHA-256" {
		t.Fatalf("challenge %+v: want the app's maxnumber %d", c, testMaxNum)
	}
	tok, hashes, ok := altcha.Solve(c)
	if !ok {
		t.Fatal("no solution")
	}
	t.Logf("solved in %d hashes", hashes)
	if status, code := send(t, b, "13800138001", tok); status != http.StatusOK {
		t.Fatalf("send with a solution: %d %s, want 200", status, code)
	}
	for _, base := range []string{a, b} {
		if status, code := send(t, base, "13800138002", tok); status != http.StatusBadRequest || code != "CAPTCHA.0004" {
			t.Fatalf("replay: %d %s, want 400 CAPTCHA.0004", status, code)
		}
	}

	fresh := func() (altcha.Challenge, int64) {
		c := challenge(t, a)
		tok, _, _ := altcha.Solve(c)
		p, err := altcha.ParsePayload(tok)
		if err != nil {
			t.Fatal(err)
		}
		return c, p.Number
	}
	c1, n1 := fresh()
	forged := c1
	forged.Signature = strings.Repeat("f", 64)
	c2, n2 := fresh()
	c3, n3 := fresh()
	for i, tc := range []struct {
		name, token, want string
		advance           time.Duration
	}{
		{"forged signature", altcha.EncodePayload(forged, n1), "CAPTCHA.0004", 0},
		{"wrong number", altcha.EncodePayload(c2, (n2+1)%(testMaxNum+1)), "CAPTCHA.0002", 0},
		{"not a payload", "hello", "CAPTCHA.0004", 0},
		{"expired", altcha.EncodePayload(c3, n3), "CAPTCHA.0003", altcha.DefaultTTL},
	} {
		clock = clock.Add(tc.advance)
		mobile := "1380013810" + string(rune('0'+i))
		if status, code := send(t, a, mobile, tc.token); status != http.StatusBadRequest || code != tc.want {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, status, code, tc.want)
		}
	}
	// A challenge takes one try: after a wrong number, the right one is
	// refused too (else the server would search for the number, one
	// request at a time, for the client). c2 is expired by now; fetch anew.
	clock = time.Now().Add(2 * altcha.DefaultTTL)
	c4, n4 := fresh()
	if status, code := send(t, b, "13800138020", altcha.EncodePayload(c4, (n4+1)%(testMaxNum+1))); code != "CAPTCHA.0002" {
		t.Fatalf("wrong number: %d %s", status, code)
	}
	if status, code := send(t, a, "13800138020", altcha.EncodePayload(c4, n4)); code != "CAPTCHA.0004" {
		t.Fatalf("right number after a wrong one: %d %s, want 400 CAPTCHA.0004", status, code)
	}

	// An application of another kind has no challenges: it would never
	// accept a solution.
	status, _, body := call(t, http.MethodGet, a+"/api/v2/sdk/captcha/altcha", "slider-app", "")
	if status != http.StatusNotFound || !strings.Contains(string(body), "REQ.0005") {
		t.Fatalf("slider app's challenge: %d %s, want 404 REQ.0005", status, body)
	}
	status, _, body = call(t, http.MethodGet, a+"/api/v2/sdk/captcha/altcha", "no-such-app", "")
	if status != http.StatusBadRequest || !strings.Contains(string(body), "APP.0001") {
		t.Fatalf("unknown app's challenge: %d %s, want 400 APP.0001", status, body)
	}
}
