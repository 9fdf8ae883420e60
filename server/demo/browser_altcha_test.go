package demo_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/config"
)

// The demo page with an altcha application, in a real browser: the real
// ALTCHA widget (vendored 2.3.0) fetches a challenge from the API, solves
// it in its worker when the person ticks the box, and the send with its
// payload succeeds; the same payload sent again is refused.
func TestBrowserAltcha(t *testing.T) {
	execPath := chromium(t)
	// The demo application's captcha kind switched to altcha at the default
	// difficulty, so that the figure the test prints is what a person pays.
	srv, rt := startServer(t, func(cfg *config.Config) {
		cfg.Apps[0].Captcha = apps.CaptchaSettings{Kind: apps.CaptchaAltcha}
	})
	b := newBrowser(t, execPath)
	defer b.watchConsole()()
	start := time.Now()
	app := rt.Config.Apps[0]

	b.do("open /demo",
		chromedp.Navigate(srv.URL+"/demo"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`altcha-widget input[type="checkbox"]`)),
	)
	if hidden := eval[bool](b, `document.getElementById('get-puzzle').hidden && document.getElementById('puzzle').hidden`); !hidden {
		t.Error("the slider is shown for an altcha application")
	}
	if disabled := eval[bool](b, `document.getElementById('send').disabled`); !disabled {
		t.Error("#send is enabled before the check")
	}
	b.do("type the number", chromedp.SendKeys(chromedp.ID("mobile"), "13812345679"))
	b.screenshot("altcha-1-loaded")

	// Tick the box, as a person does: the widget fetches and solves.
	solveStart := time.Now()
	b.do("tick the ALTCHA box", chromedp.Click(chromedp.CSS(`altcha-widget input[type="checkbox"]`)))
	if class, code := b.waitStatus("captcha/altcha"); class != "ok" {
		t.Fatalf("captcha/altcha: #status class %q, code %q", class, code)
	}
	solved := time.Since(solveStart)
	payload := eval[string](b, `document.querySelector('altcha-widget input[name="altcha"]').value`)
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("the widget's payload %q is not base64: %v", payload, err)
	}
	var p struct {
		Number int64   `json:"number"`
		Took   float64 `json:"took"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("the widget's payload %s: %v", raw, err)
	}
	t.Logf("the widget solved maxnumber %d: number %d, solving took %.0f ms by its own clock (its workers split the range), %v from the click to verified",
		altcha.DefaultMaxNumber, p.Number, p.Took, solved.Round(time.Millisecond))
	b.screenshot("altcha-2-verified")

	b.do("send", chromedp.WaitEnabled(chromedp.ID("send")), chromedp.Click(chromedp.ID("send")))
	if class, code := b.waitStatus("sms/send"); class != "ok" {
		t.Fatalf("sms/send with the widget's payload: #status class %q, code %q", class, code)
	}
	b.screenshot("altcha-3-sent")

	// The payload the widget gave is spent: a replay (another number,
	// so that no send limit is what refuses it) gets CAPTCHA.0004.
	body, _ := json.Marshal(map[string]string{"mobile": "13812345670", "type": "LOGIN_SMS", "captcha_token": payload})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/sdk/sms/send", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-operating-sys-version", "Linux")
	req.Header.Set("X-device-fingerprint", "replayer")
	req.Header.Set("X-agent", "Go")
	req.Header.Set("X-client-id", app.ClientID)
	req.Header.Set("X-tenant-id", app.TenantID)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Code string `json:"error_code"`
	}
	_ = json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || e.Code != "CAPTCHA.0004" {
		t.Errorf("replay of the widget's payload: %d %s, want 400 CAPTCHA.0004", res.StatusCode, e.Code)
	}
	t.Logf("browser altcha flow took %s", time.Since(start).Round(time.Millisecond))
}
