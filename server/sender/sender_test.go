package sender_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms"
)

const (
	seedMobile = "12345678901"
	seedE164   = "+8612345678901"
	bind       = "BIND_MOBILE_SMS"
	login      = "LOGIN_SMS"
)

var sixDigits = regexp.MustCompile(`\d{6}`)

// The OneAccess example, as printed, gets 200 and the code reaches the
// provider; the same request within 60 s gets 429 with Retry-After, and
// after the cooldown it goes through again.
func TestSeedExampleThenCooldown(t *testing.T) {
	env := servertest.New(t)
	r := send(t, env, seedMobile, bind, nil)
	wantOK(t, r)
	if strings.TrimSpace(string(r.Body)) != `"OK"` {
		t.Errorf("body = %s, want \"OK\"", r.Body)
	}
	if r.Header.Get("X-Resend-After") != "60" || r.Header.Get("X-Code-Expires-In") != "300" {
		t.Errorf("X-Resend-After %q, X-Code-Expires-In %q", r.Header.Get("X-Resend-After"), r.Header.Get("X-Code-Expires-In"))
	}
	msg, ok := env.Outbox.Last(seedE164)
	if !ok || env.Outbox.Count() != 1 {
		t.Fatalf("outbox: %d messages", env.Outbox.Count())
	}
	if !sixDigits.MatchString(msg.Code) || !strings.Contains(msg.Text, msg.Code) || !strings.Contains(msg.Text, "验证码") {
		t.Errorf("message %q (code %q): want a Chinese text holding the 6-digit code", msg.Text, msg.Code)
	}

	env.Clock.Advance(20 * time.Second)
	r = send(t, env, seedMobile, bind, nil)
	wantError(t, r, http.StatusTooManyRequests, "SMS.0001")
	if r.RetryAfter != 40 {
		t.Errorf("Retry-After = %d, want 40", r.RetryAfter)
	}
	if r.Msg != "短信发送过于频繁，请稍后重试。" {
		t.Errorf("error_msg = %q, want the Chinese message (X-L: zh)", r.Msg)
	}
	env.Clock.Advance(40 * time.Second)
	wantOK(t, send(t, env, seedMobile, bind, nil))
	if env.Outbox.Count() != 2 {
		t.Errorf("outbox: %d messages, want 2", env.Outbox.Count())
	}
}

// Each limit refuses with its own code and a Retry-After, and a refused
// send delivers nothing and stores no code.
func TestLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits config.Config
		// request i (from 0) of the run
		mobile, device func(i int) string
		ok             int // how many pass before the refusal
		advance        time.Duration
		code           string
		retryAfter     int // expected Retry-After, 0: only check > 0
	}{
		{
			name:   "number daily",
			mobile: func(int) string { return seedMobile },
			device: func(i int) string { return fmt.Sprintf("dev%d", i) },
			ok:     10, advance: 61 * time.Second, code: "SMS.0002",
			retryAfter: 24*3600 - 10*61,
		},
		{
			name:   "device per hour",
			mobile: func(i int) string { return fmt.Sprintf("139000000%02d", i) },
			device: func(int) string { return "same-device" },
			ok:     20, code: "SMS.0003", retryAfter: 3600,
		},
		{
			name:   "ip per hour",
			mobile: func(i int) string { return fmt.Sprintf("1%02d00000000", i) },
			device: func(i int) string { return fmt.Sprintf("dev%d", i) },
			ok:     50, code: "SMS.0004", retryAfter: 3600,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := servertest.New(t)
			for i := 0; i < tt.ok; i++ {
				wantOK(t, send(t, env, tt.mobile(i), scenarioOf(i), map[string]string{"X-device-fingerprint": tt.device(i)}))
				env.Clock.Advance(tt.advance)
			}
			before := env.Outbox.Count()
			r := send(t, env, tt.mobile(tt.ok), scenarioOf(tt.ok), map[string]string{"X-device-fingerprint": tt.device(tt.ok)})
			wantError(t, r, http.StatusTooManyRequests, tt.code)
			if r.RetryAfter != tt.retryAfter {
				t.Errorf("Retry-After = %d, want %d", r.RetryAfter, tt.retryAfter)
			}
			if env.Outbox.Count() != before {
				t.Errorf("a refused send delivered a message")
			}
		})
	}
}

// scenarioOf cycles through the six scenarios, so that repeated sends to
// one number are not all stopped by the per-scenario cooldown.
func scenarioOf(i int) string {
	all := []string{"REGISTER_SMS", "LOGIN_SMS", "FORGET_PWD_SMS", "BIND_MOBILE_SMS", "UPDATE_MOBILE_SMS", "OTP_REST_SMS"}
	return all[i%len(all)]
}

// X-device-ip is the client's word: changing it does not escape the per-IP
// limit, which counts the connection's address.
func TestDeviceIPHeaderIsNotTrustedForLimits(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) { c.Limits.IPPerHour = 3 }))
	for i := 0; i < 3; i++ {
		wantOK(t, send(t, env, fmt.Sprintf("1380000000%d", i), login, map[string]string{
			"X-device-fingerprint": fmt.Sprintf("d%d", i), "X-device-ip": fmt.Sprintf("10.0.0.%d", i)}))
	}
	r := send(t, env, "13800000009", login, map[string]string{"X-device-fingerprint": "d9", "X-device-ip": "10.9.9.9"})
	wantError(t, r, http.StatusTooManyRequests, "SMS.0004")
}

// The per-IP send limit counts an IPv6 client as its /64 (what one
// subscriber is given: walking its addresses buys nothing) and an
// IPv4-mapped IPv6 address as the IPv4 address it is.
func TestSendIPLimitCountsOneClientOnce(t *testing.T) {
	tests := []struct {
		name  string
		from  []string // client addresses, each sends once; the last is refused
		fresh string   // then a send from here is allowed
	}{
		{"IPv6 /64", []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::2", "2001:db8:1:2:1:2:3:4"}, "2001:db8:1:3::1"},
		{"IPv4-mapped", []string{"198.51.100.7", "::ffff:198.51.100.7", "::ffff:c633:6407"}, "198.51.100.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
				c.Limits.IPPerHour = int64(len(tt.from) - 1)
				c.HTTP.TrustedProxies = []string{"127.0.0.1"}
			}))
			for i, ip := range append(tt.from, tt.fresh) {
				r := send(t, env, fmt.Sprintf("1380000001%d", i), login, map[string]string{
					"X-device-fingerprint": fmt.Sprintf("d%d", i), "X-Forwarded-For": ip})
				if i == len(tt.from)-1 {
					wantError(t, r, http.StatusTooManyRequests, "SMS.0004")
				} else {
					wantOK(t, r)
				}
			}
		})
	}
}

func TestAppDailyQuota(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) { c.Apps[0].Limits.AppDaily = 2 }))
	wantOK(t, send(t, env, "13800000001", login, map[string]string{"X-device-fingerprint": "a"}))
	wantOK(t, send(t, env, "13800000002", login, map[string]string{"X-device-fingerprint": "b"}))
	r := send(t, env, "13800000003", login, map[string]string{"X-device-fingerprint": "c"})
	wantError(t, r, http.StatusTooManyRequests, "SMS.0005")
	if r.RetryAfter != 24*3600 {
		t.Errorf("Retry-After = %d", r.RetryAfter)
	}
}

// SMS pumping: a burst to one prefix blocks the prefix for BlockFor; other
// prefixes and allow-listed ones still go through.
func TestPumpingDefenceBlocksPrefix(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
		c.Pumping.Max = 3
		c.Pumping.Window = 10 * time.Minute
		c.Pumping.BlockFor = 2 * time.Hour
		c.Pumping.Allow = []string{"+86150"}
	}))
	dev := func(i int) map[string]string { return map[string]string{"X-device-fingerprint": fmt.Sprintf("p%d", i)} }
	for i := 0; i < 3; i++ {
		wantOK(t, send(t, env, fmt.Sprintf("1380000000%d", i), login, dev(i)))
	}
	r := send(t, env, "13800000005", login, dev(5))
	wantError(t, r, http.StatusTooManyRequests, "SMS.0006")
	if r.RetryAfter != 7200 {
		t.Errorf("Retry-After = %d, want the 2 h block", r.RetryAfter)
	}
	env.Clock.Advance(30 * time.Minute) // past the window, still inside the block
	wantError(t, send(t, env, "13800000006", login, dev(6)), http.StatusTooManyRequests, "SMS.0006")
	wantOK(t, send(t, env, "13900000006", login, dev(7)))
	for i := 0; i < 5; i++ {
		wantOK(t, send(t, env, fmt.Sprintf("1500000000%d", i), login, dev(10+i)))
	}
	env.Clock.Advance(2 * time.Hour)
	wantOK(t, send(t, env, "13800000007", login, dev(8)))
}

// 100 concurrent sends for one number give exactly one SMS.
func TestConcurrentSendsForOneNumber(t *testing.T) {
	env := servertest.New(t)
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := send(t, env, seedMobile, bind, nil)
			switch {
			case r.Status == http.StatusOK:
				ok.Add(1)
			case r.Code == "SMS.0001":
				limited.Add(1)
			default:
				t.Errorf("unexpected %d %s", r.Status, r.Code)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || limited.Load() != 99 || env.Outbox.Count() != 1 {
		t.Fatalf("%d sent, %d refused, %d messages; want 1, 99, 1", ok.Load(), limited.Load(), env.Outbox.Count())
	}
}

func TestVerify(t *testing.T) {
	env := servertest.New(t)
	wantOK(t, send(t, env, seedMobile, bind, nil))
	msg, _ := env.Outbox.Last(seedE164)
	wrong := wrongCode(msg.Code)

	wantError(t, verify(t, env, seedMobile, bind, wrong, nil), http.StatusBadRequest, "VERIFY.0001")
	wantError(t, verify(t, env, seedMobile, login, msg.Code, nil), http.StatusBadRequest, "VERIFY.0002")
	r := verify(t, env, seedMobile, bind, msg.Code, nil)
	wantOK(t, r)
	var body gen.VerifySmsResult
	if err := json.Unmarshal(r.Body, &body); err != nil || !body.Verified {
		t.Errorf("body %s", r.Body)
	}
	// Consumed: the right code works once.
	wantError(t, verify(t, env, seedMobile, bind, msg.Code, nil), http.StatusBadRequest, "VERIFY.0002")
}

func TestVerifyAttemptCapAndExpiry(t *testing.T) {
	env := servertest.New(t)
	wantOK(t, send(t, env, seedMobile, bind, nil))
	msg, _ := env.Outbox.Last(seedE164)
	for i := 0; i < 5; i++ {
		wantError(t, verify(t, env, seedMobile, bind, wrongCode(msg.Code), nil), http.StatusBadRequest, "VERIFY.0001")
	}
	// After 5 wrong attempts this caller (its address and device) is done
	// with the number for the day, even with the right code and a new one.
	r := verify(t, env, seedMobile, bind, msg.Code, nil)
	wantError(t, r, http.StatusTooManyRequests, "VERIFY.0008")
	if r.RetryAfter != 24*3600 {
		t.Errorf("Retry-After = %d, want a day", r.RetryAfter)
	}
	env.Clock.Advance(61 * time.Second)
	wantOK(t, send(t, env, seedMobile, bind, nil))
	msg, _ = env.Outbox.Last(seedE164)
	wantError(t, verify(t, env, seedMobile, bind, msg.Code, nil), http.StatusTooManyRequests, "VERIFY.0008")

	// A code expires after its TTL.
	const other = "13800000099"
	wantOK(t, send(t, env, other, bind, map[string]string{"X-device-fingerprint": "other"}))
	msg, _ = env.Outbox.Last("+86" + other)
	env.Clock.Advance(5*time.Minute + time.Second)
	wantError(t, verify(t, env, other, bind, msg.Code, map[string]string{"X-device-fingerprint": "other"}), http.StatusBadRequest, "VERIFY.0002")
}

// A new send replaces the previous code.
func TestNewSendReplacesCode(t *testing.T) {
	env := servertest.New(t)
	wantOK(t, send(t, env, seedMobile, bind, nil))
	first, _ := env.Outbox.Last(seedE164)
	env.Clock.Advance(61 * time.Second)
	wantOK(t, send(t, env, seedMobile, bind, nil))
	second, _ := env.Outbox.Last(seedE164)
	if first.Code != second.Code {
		wantError(t, verify(t, env, seedMobile, bind, first.Code, nil), http.StatusBadRequest, "VERIFY.0001")
	}
	wantOK(t, verify(t, env, seedMobile, bind, second.Code, nil))
}

// A provider failure: 503, no code left valid, the cooldown not charged; a
// permanent refusal is a 400 with SMS.0008.
func TestProviderFailure(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"temporary", errors.New("gateway timeout"), http.StatusServiceUnavailable, "SMS.0007"},
		{"permanent", fmt.Errorf("number unreachable: %w", sms.ErrPermanent), http.StatusBadRequest, "SMS.0008"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := servertest.New(t)
			var attempted sms.Message
			env.Outbox.SetFailure(func(m sms.Message) error { attempted = m; return tt.err })
			wantError(t, send(t, env, seedMobile, bind, nil), tt.status, tt.code)
			if env.Outbox.Count() != 0 || attempted.Code == "" {
				t.Fatalf("delivered %d, attempted code %q", env.Outbox.Count(), attempted.Code)
			}
			// The undelivered code is not valid.
			wantError(t, verify(t, env, seedMobile, bind, attempted.Code, nil), http.StatusBadRequest, "VERIFY.0002")
			// The cooldown was not charged: the retry goes through at once.
			env.Outbox.SetFailure(nil)
			wantOK(t, send(t, env, seedMobile, bind, nil))
			msg, _ := env.Outbox.Last(seedE164)
			wantOK(t, verify(t, env, seedMobile, bind, msg.Code, nil))
		})
	}
}

// Messages follow X-L, then the app's default language, then English.
func TestMessageLanguage(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
		c.Apps = append(c.Apps, apps.App{ClientID: "enapp", DefaultLang: "en", Captcha: c.Apps[0].Captcha})
	}))
	tests := []struct {
		client, tenant, lang string
		want                 string
	}{
		{servertest.ClientID, servertest.TenantID, "zh", "验证码"},
		{servertest.ClientID, servertest.TenantID, "en", "verification code"},
		{servertest.ClientID, servertest.TenantID, "en-US", "verification code"},
		{servertest.ClientID, servertest.TenantID, "fr", "验证码"}, // app default zh
		{"enapp", "", "zh-CN", "验证码"},
		{"enapp", "", "de", "verification code"}, // app default en
	}
	for i, tt := range tests {
		mobile := fmt.Sprintf("1380000%04d", i)
		hdr := map[string]string{"X-client-id": tt.client, "X-tenant-id": tt.tenant, "X-L": tt.lang,
			"X-device-fingerprint": fmt.Sprintf("lang%d", i)}
		wantOK(t, send(t, env, mobile, login, hdr))
		msg, _ := env.Outbox.Last("+86" + mobile)
		if !strings.Contains(msg.Text, tt.want) || !strings.Contains(msg.Text, msg.Code) {
			t.Errorf("%s X-L %q: text %q, want it to contain %q and the code", tt.client, tt.lang, msg.Text, tt.want)
		}
	}
}

// Application, scenario and number checks, each with its documented code.
func TestApplicationAndNumberErrors(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
		tok := c.Apps[0].Captcha
		c.Apps = append(c.Apps,
			apps.App{ClientID: "off", Disabled: true, Captcha: tok},
			apps.App{ClientID: "loginonly", Scenarios: []gen.Scenario{gen.ScenarioLogin}, Captcha: tok},
			apps.App{ClientID: "strict", Captcha: tok, Phone: strictPolicy()},
		)
	}))
	tests := []struct {
		name, client, tenant, mobile, scenario string
		status                                 int
		code                                   string
	}{
		{"unknown app", "nosuchapp", "", seedMobile, bind, 400, "APP.0001"},
		{"ISV app without its tenant", servertest.ClientID, "", seedMobile, bind, 400, "APP.0001"},
		{"wrong tenant", servertest.ClientID, "othertenant", seedMobile, bind, 400, "APP.0001"},
		{"disabled app", "off", "", seedMobile, bind, 400, "APP.0003"},
		{"scenario the app does not allow", "loginonly", "", seedMobile, bind, 400, "CAPTCHA.0005"},
		{"scenario the app allows", "loginonly", "", "13800138000", login, 200, ""},
		{"strict policy refuses a made-up number", "strict", "", seedMobile, login, 400, "USER.0038"},
		{"strict policy takes a real mainland number", "strict", "", "13800138000", login, 200, ""},
		{"denied country", "strict", "", "+12025550123", login, 400, "USER.0039"},
		{"E.164 on the default policy", servertest.ClientID, servertest.TenantID, "+447911123456", login, 200, ""},
		{"invalid E.164", servertest.ClientID, servertest.TenantID, "+999999999", login, 400, "USER.0038"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, env, tt.mobile, tt.scenario, map[string]string{
				"X-client-id": tt.client, "X-tenant-id": tt.tenant, "X-device-fingerprint": fmt.Sprintf("e%d", i)})
			if tt.status == 200 {
				wantOK(t, r)
				return
			}
			wantError(t, r, tt.status, tt.code)
		})
	}
}

// A captcha token is checked before anything is sent; a real token is used
// once whatever the outcome; test tokens stay reusable but meet every limit.
func TestCaptchaTokens(t *testing.T) {
	var calls atomic.Int64
	var down atomic.Bool
	siteverify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if down.Load() {
			http.Error(w, "unavailable", http.StatusBadGateway)
			return
		}
		_ = r.ParseForm()
		ok := r.PostForm.Get("secret") == "sv-secret" && strings.HasPrefix(r.PostForm.Get("response"), "good")
		w.Header().Set("Content-Type", "application/json")
		if ok {
			fmt.Fprint(w, `{"success":true,"hostname":"example.com","error-codes":[]}`)
			return
		}
		fmt.Fprint(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
	}))
	defer siteverify.Close()
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
		c.Apps = append(c.Apps, apps.App{ClientID: "ts", Captcha: apps.CaptchaSettings{
			Kind: apps.CaptchaTurnstile, Secret: "sv-secret", VerifyURL: siteverify.URL}})
	}))
	post := func(mobile, token, device string) reply {
		return do(t, env, call{path: "/api/v2/sdk/sms/send",
			hdr:  map[string]string{"X-client-id": "ts", "X-tenant-id": "", "X-device-fingerprint": device},
			body: map[string]string{"mobile": mobile, "type": login, "captcha_token": token}})
	}
	wantOK(t, post("13800000001", "good-1", "c1"))
	// Replayed: refused, even though the number changed.
	wantError(t, post("13800000002", "good-1", "c2"), http.StatusBadRequest, "CAPTCHA.0004")
	// Wrong: refused, and used up all the same.
	wantError(t, post("13800000003", "bad-1", "c3"), http.StatusBadRequest, "CAPTCHA.0004")
	n := calls.Load()
	wantError(t, post("13800000003", "bad-1", "c3"), http.StatusBadRequest, "CAPTCHA.0004")
	if calls.Load() != n {
		t.Error("a used token was sent to siteverify again")
	}
	// The captcha service down: fail closed, nothing sent.
	down.Store(true)
	wantError(t, post("13800000004", "good-2", "c4"), http.StatusServiceUnavailable, "CAPTCHA.0006")
	if env.Outbox.Count() != 1 {
		t.Errorf("%d messages, want 1", env.Outbox.Count())
	}

	// The seed's test token is reusable (on another app, dev mode)...
	for i := 0; i < 3; i++ {
		wantOK(t, send(t, env, fmt.Sprintf("1390000000%d", i), login, map[string]string{"X-device-fingerprint": "tt"}))
	}
	// ...but not a way around limits.
	wantError(t, send(t, env, "13900000000", login, map[string]string{"X-device-fingerprint": "tt"}),
		http.StatusTooManyRequests, "SMS.0001")
	// Anything else is refused on an app with only test tokens.
	r := do(t, env, call{path: "/api/v2/sdk/sms/send", body: map[string]string{
		"mobile": "13900000009", "type": login, "captcha_token": "71d******635---forged"}})
	wantError(t, r, http.StatusBadRequest, "CAPTCHA.0004")
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func strictPolicy() phone.Policy {
	return phone.Policy{Strict: true, DenyCountries: []string{"US"}}
}

// A test number answers like a real one but sends nothing, charges no limit
// and stores nothing; its fixed code, and only it, verifies, again and again.
// Real numbers of the same application are unaffected.
func TestTestNumbers(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
		c.Apps[0].TestNumbers = map[string]string{"13800000000": "246810"}
	}))
	for range 3 { // no cooldown, no daily cap
		r := send(t, env, "13800000000", bind, nil)
		wantOK(t, r)
		if r.Header.Get("X-Resend-After") != "60" || r.Header.Get("X-Code-Expires-In") != "300" {
			t.Errorf("headers %v", r.Header)
		}
	}
	if n := env.Outbox.Count(); n != 0 {
		t.Fatalf("%d messages sent to a test number", n)
	}
	wantError(t, verify(t, env, "13800000000", bind, "135790", nil), http.StatusBadRequest, "VERIFY.0001")
	for range 2 {
		wantOK(t, verify(t, env, "+8613800000000", bind, "246810", nil))
	}
	// The captcha is checked as for any number.
	r := do(t, env, call{path: "/api/v2/sdk/sms/send", body: map[string]string{
		"mobile": "13800000000", "type": bind, "captcha_token": "not-a-token"}})
	if r.Status != http.StatusBadRequest || !strings.HasPrefix(r.Code, "CAPTCHA.") {
		t.Errorf("a bad captcha for a test number: %d %s", r.Status, r.Code)
	}
	// A real number of the same application is sent to and limited as ever.
	wantOK(t, send(t, env, seedMobile, bind, nil))
	if env.Outbox.Count() != 1 {
		t.Errorf("a real number got %d messages", env.Outbox.Count())
	}
	wantError(t, send(t, env, seedMobile, bind, nil), http.StatusTooManyRequests, "SMS.0001")
}
