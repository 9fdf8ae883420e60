package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/client"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms"
)

// The seed example goes through; the same send within the cooldown is a
// 429 *Error that matches ErrTooFrequent; after the cooldown it goes
// through again, and the code that reached the phone verifies once.
func TestSeedExampleCooldownAndVerify(t *testing.T) {
	env := servertest.New(t)
	c, _ := newClient(t, env.URL, client.WithLanguage("zh"))

	res, err := send(t, c)
	if err != nil {
		t.Fatalf("seed example: %v", err)
	}
	if res.ResendAfter != 60*time.Second || res.ExpiresIn != 5*time.Minute || res.RequestID == "" {
		t.Errorf("result = %+v, want ResendAfter 60s, ExpiresIn 5m and a request id", res)
	}

	_, err = send(t, c)
	ce := wantAPIError(t, err, http.StatusTooManyRequests, client.CodeTooFrequent)
	if ce.RetryAfter != 60*time.Second || ce.RequestID == "" || ce.Message == "" {
		t.Errorf("error = %+v, want RetryAfter 60s, a request id and a message", ce)
	}
	if !errors.Is(err, client.ErrTooFrequent) || errors.Is(err, client.ErrDeviceLimit) {
		t.Errorf("errors.Is: want a match with ErrTooFrequent only")
	}
	if !client.IsRateLimited(err) || !ce.Temporary() || client.CodeOf(err) != client.CodeTooFrequent {
		t.Errorf("IsRateLimited %v, Temporary %v, CodeOf %q", client.IsRateLimited(err), ce.Temporary(), client.CodeOf(err))
	}

	env.Clock.Advance(60 * time.Second)
	if _, err := send(t, c); err != nil {
		t.Fatalf("send after the cooldown: %v", err)
	}
	msg, ok := env.Outbox.Last(seedE164)
	if !ok || env.Outbox.Count() != 2 {
		t.Fatalf("outbox: %d messages, want 2", env.Outbox.Count())
	}
	ctx := context.Background()
	if err := c.VerifySMS(ctx, seedMobile, client.ScenarioBindMobile, msg.Code); err != nil {
		t.Fatalf("verify the right code: %v", err)
	}
	err = c.VerifySMS(ctx, seedMobile, client.ScenarioBindMobile, msg.Code)
	wantAPIError(t, err, http.StatusBadRequest, client.CodeExpired)
	if !errors.Is(err, client.ErrCodeExpired) {
		t.Errorf("a used code: %v, want ErrCodeExpired", err)
	}
}

func TestVerifyErrors(t *testing.T) {
	env := servertest.New(t)
	c, _ := newClient(t, env.URL)
	if _, err := send(t, c); err != nil {
		t.Fatal(err)
	}
	msg, _ := env.Outbox.Last(seedE164)
	wrong := "000000"
	if msg.Code == wrong {
		wrong = "111111"
	}
	tests := []struct {
		name     string
		scenario client.Scenario
		code     string
		want     *client.Error
	}{
		{"wrong code", client.ScenarioBindMobile, wrong, client.ErrCodeWrong},
		{"other scenario", client.ScenarioLogin, msg.Code, client.ErrCodeExpired},
		{"not digits", client.ScenarioBindMobile, "12ab", client.ErrCodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.VerifySMS(context.Background(), seedMobile, tt.scenario, tt.code)
			wantAPIError(t, err, http.StatusBadRequest, tt.want.Code)
			if !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
			}
		})
	}
}

// error_msg follows WithLanguage, and ContextWithLanguage overrides it.
func TestErrorMessageLanguage(t *testing.T) {
	env := servertest.New(t)
	tests := []struct {
		name    string
		lang    string
		ctxLang *string
		want    string
	}{
		{"no language", "", nil, "Application does not exist."},
		{"en", "en", nil, "Application does not exist."},
		{"zh", "zh", nil, "应用不存在。"},
		{"zh-CN", "zh-CN", nil, "应用不存在。"},
		{"per call zh", "en", ptr("zh"), "应用不存在。"},
		{"per call none", "zh", ptr(""), "Application does not exist."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An unknown client id is refused before any limit, so every
			// row can use the same number.
			c, _ := newClient(t, env.URL, client.WithClientID("nosuchapp"), client.WithLanguage(tt.lang))
			ctx := context.Background()
			if tt.ctxLang != nil {
				ctx = client.ContextWithLanguage(ctx, *tt.ctxLang)
			}
			_, err := c.SendSMS(ctx, seedMobile, client.ScenarioBindMobile, servertest.CaptchaToken)
			ce := wantAPIError(t, err, http.StatusBadRequest, client.CodeAppNotFound)
			if ce.Message != tt.want {
				t.Errorf("Message = %q, want %q", ce.Message, tt.want)
			}
			if ce.Temporary() || client.IsRateLimited(err) || !errors.Is(err, client.ErrAppNotFound) {
				t.Errorf("APP.0001: Temporary %v, IsRateLimited %v", ce.Temporary(), client.IsRateLimited(err))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// With WithRetry, a 429 whose Retry-After is within MaxWait is waited out
// once and the repeat goes through: one SMS per successful call.
func TestRetryWaitsRetryAfter(t *testing.T) {
	env := servertest.New(t)
	c, rec := newClient(t, env.URL, client.WithRetry(client.RetryPolicy{MaxWait: time.Minute, MaxAttempts: 2}))
	sleeper := &fakeSleep{env: env}
	client.SetSleep(c, sleeper.sleep)

	if _, err := send(t, c); err != nil {
		t.Fatal(err)
	}
	res, err := send(t, c)
	if err != nil {
		t.Fatalf("retried send: %v", err)
	}
	if got := sleeper.recorded(); !slices.Equal(got, []time.Duration{time.Minute}) {
		t.Errorf("waits = %v, want [1m0s]", got)
	}
	if rec.count() != 3 || env.Outbox.Count() != 2 || res.ResendAfter != time.Minute {
		t.Errorf("%d requests, %d messages, result %+v; want 3, 2", rec.count(), env.Outbox.Count(), res)
	}
}

// The cases where the client must not repeat the POST: each makes exactly
// one request and returns the first answer.
func TestRetryDoesNotRepeat(t *testing.T) {
	tests := []struct {
		name   string
		opts   []client.Option
		ctx    func() (context.Context, context.CancelFunc)
		status int
		code   client.ErrorCode
	}{
		{name: "without WithRetry", status: 429, code: client.CodeTooFrequent},
		{
			name:   "Retry-After above MaxWait",
			opts:   []client.Option{client.WithRetry(client.RetryPolicy{MaxWait: 59 * time.Second, MaxAttempts: 5})},
			status: 429, code: client.CodeTooFrequent,
		},
		{
			name: "Retry-After beyond the context's deadline",
			opts: []client.Option{client.WithRetry(client.RetryPolicy{MaxWait: time.Hour})},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 5*time.Second)
			},
			status: 429, code: client.CodeTooFrequent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := servertest.New(t)
			c, rec := newClient(t, env.URL, tt.opts...)
			sleeper := &fakeSleep{env: env}
			client.SetSleep(c, sleeper.sleep)
			if _, err := send(t, c); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			_, err := c.SendSMS(ctx, seedMobile, client.ScenarioBindMobile, servertest.CaptchaToken)
			wantAPIError(t, err, tt.status, tt.code)
			if rec.count() != 2 || len(sleeper.recorded()) != 0 {
				t.Errorf("%d requests (want 2: the first send and one refused), waits %v", rec.count(), sleeper.recorded())
			}
		})
	}
}

// MaxAttempts counts every request: with the limit still in force after
// each wait, the call gives up after MaxAttempts and returns the last 429.
func TestRetryStopsAtMaxAttempts(t *testing.T) {
	env := servertest.New(t)
	c, rec := newClient(t, env.URL, client.WithRetry(client.RetryPolicy{MaxWait: time.Minute, MaxAttempts: 3}))
	sleeper := &fakeSleep{} // the clock stays put, so the cooldown does too
	client.SetSleep(c, sleeper.sleep)
	if _, err := send(t, c); err != nil {
		t.Fatal(err)
	}
	_, err := send(t, c)
	wantAPIError(t, err, http.StatusTooManyRequests, client.CodeTooFrequent)
	if rec.count() != 1+3 || len(sleeper.recorded()) != 2 {
		t.Errorf("%d requests, waits %v; want 4 requests and 2 waits", rec.count(), sleeper.recorded())
	}
}

// A context that ends during the wait stops the retry; the error holds
// both the server's answer and the context's error.
func TestRetryWaitCancelled(t *testing.T) {
	env := servertest.New(t)
	c, rec := newClient(t, env.URL, client.WithRetry(client.RetryPolicy{MaxWait: time.Minute}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client.SetSleep(c, func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	})
	if _, err := send(t, c); err != nil {
		t.Fatal(err)
	}
	_, err := c.SendSMS(ctx, seedMobile, client.ScenarioBindMobile, servertest.CaptchaToken)
	ce := wantAPIError(t, err, http.StatusTooManyRequests, client.CodeTooFrequent)
	if !errors.Is(err, context.Canceled) || ce.RetryAfter != time.Minute || rec.count() != 2 {
		t.Errorf("err = %v, %d requests; want context.Canceled in the chain and 2 requests", err, rec.count())
	}
}

// A provider failure is a temporary 503 SMS.0007. It has no Retry-After,
// so even WithRetry does not repeat it.
func TestProviderUnavailable(t *testing.T) {
	env := servertest.New(t)
	env.Outbox.SetFailure(func(sms.Message) error { return errors.New("down") })
	c, rec := newClient(t, env.URL, client.WithRetry(client.RetryPolicy{}))
	client.SetSleep(c, (&fakeSleep{}).sleep)
	_, err := send(t, c)
	ce := wantAPIError(t, err, http.StatusServiceUnavailable, client.CodeProviderUnavailable)
	if !ce.Temporary() || client.IsRateLimited(err) || !errors.Is(err, client.ErrProviderUnavailable) {
		t.Errorf("503: Temporary %v, IsRateLimited %v", ce.Temporary(), client.IsRateLimited(err))
	}
	if rec.count() != 1 {
		t.Errorf("%d requests, want 1", rec.count())
	}
}

// Answers that are not smscode error bodies still become *Error, with the
// status and no code; a proxy's 503 is never retried, since nothing says
// that the server did not send.
func TestNonSmscodeErrorAnswers(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"HTML 502", "text/html", "<html><body>Bad Gateway</body></html>", http.StatusBadGateway},
		{"JSON of another shape", "application/json", `{"message":"no route"}`, http.StatusNotFound},
		{"broken JSON", "application/json", `{"error_code":`, http.StatusInternalServerError},
		{"proxy 503 with Retry-After", "text/plain", "busy", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer hs.Close()
			c, rec := newClient(t, hs.URL, client.WithRetry(client.RetryPolicy{}))
			client.SetSleep(c, (&fakeSleep{}).sleep)
			_, err := send(t, c)
			ce := wantAPIError(t, err, tt.status, "")
			if ce.Message == "" || ce.RetryAfter != time.Second || rec.count() != 1 {
				t.Errorf("error %+v after %d requests; want a message, RetryAfter 1s, 1 request", ce, rec.count())
			}
			if errors.Is(err, &client.Error{}) {
				t.Error("an empty Code matched an empty-Code target")
			}
		})
	}
}

// A code the client does not know (one added to the spec after it was
// built) is still an *Error with that code, its message and status: the
// spec's error_code is open, and the caller goes by the status (Temporary,
// IsRateLimited) where it has no case for the code. It matches no sentinel.
func TestUnknownErrorCode(t *testing.T) {
	tests := []struct {
		name               string
		status             int
		code               client.ErrorCode
		temporary, limited bool
	}{
		{"400 NEW.0001", http.StatusBadRequest, "NEW.0001", false, false},
		{"403 of a new area", http.StatusForbidden, "ZZZZ.9999", false, false},
		{"429 new limit", http.StatusTooManyRequests, "SMS.0099", true, true},
		{"503 new dependency", http.StatusServiceUnavailable, "SYS.0099", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Request-Id", "req-1")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"error_code":"` + string(tt.code) + `","error_msg":"x"}`))
			}))
			defer hs.Close()
			c, rec := newClient(t, hs.URL, client.WithRetry(client.RetryPolicy{}))
			client.SetSleep(c, (&fakeSleep{}).sleep)
			for _, call := range []struct {
				op string
				do func() error
			}{
				{"send", func() error { _, err := send(t, c); return err }},
				{"verify", func() error {
					return c.VerifySMS(context.Background(), seedMobile, client.ScenarioBindMobile, "123456")
				}},
			} {
				err := call.do()
				ce := wantAPIError(t, err, tt.status, tt.code)
				if ce.Message != "x" || ce.RequestID != "req-1" || client.CodeOf(err) != tt.code {
					t.Errorf("%s: %+v, want message x, request id req-1, CodeOf %s", call.op, ce, tt.code)
				}
				if ce.Temporary() != tt.temporary || client.IsRateLimited(err) != tt.limited {
					t.Errorf("%s: Temporary %v IsRateLimited %v, want %v %v", call.op, ce.Temporary(), client.IsRateLimited(err), tt.temporary, tt.limited)
				}
				for _, s := range []error{client.ErrTooFrequent, client.ErrInternal, client.ErrStoreUnavailable, client.ErrAppNotFound} {
					if errors.Is(err, s) {
						t.Errorf("%s: %s matched sentinel %v", call.op, tt.code, s)
					}
				}
			}
			if rec.count() != 2 {
				t.Errorf("%d requests for two calls, want 2 (no retry)", rec.count())
			}
		})
	}
}

// A 200 from verify counts only with "verified": true in its body.
func TestVerifyNeedsVerifiedTrue(t *testing.T) {
	for _, body := range []string{`{"verified":false}`, `{}`, `OK`, ``} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		c, _ := newClient(t, hs.URL)
		err := c.VerifySMS(context.Background(), seedMobile, client.ScenarioBindMobile, "123456")
		hs.Close()
		if err == nil {
			t.Errorf("200 %q: verified, want an error", body)
		}
		if _, ok := errors.AsType[*client.Error](err); ok {
			t.Errorf("200 %q: %v is an *Error; a 200 is not an error answer", body, err)
		}
	}
}

// A refused connection is returned wrapped, not as an *Error, and with
// no retry.
func TestTransportError(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close()
	c, rec := newClient(t, url, client.WithRetry(client.RetryPolicy{}))
	_, err := send(t, c)
	if err == nil {
		t.Fatal("send to a closed port succeeded")
	}
	if _, ok := errors.AsType[*client.Error](err); ok || client.CodeOf(err) != "" || client.IsRateLimited(err) {
		t.Errorf("err = %v: a transport error must not be an *Error", err)
	}
	if !strings.Contains(err.Error(), "send SMS") || rec.count() != 1 {
		t.Errorf("err = %v after %d requests", err, rec.count())
	}
}

// The headers reach the server as the options and the context set them,
// and the server echoes the caller's request id.
func TestHeadersAndPerCallValues(t *testing.T) {
	env := servertest.New(t)
	c, rec := newClient(t, env.URL, client.WithLanguage("zh"))
	ctx := client.ContextWithRequestID(context.Background(), "trace-0001")
	res, err := c.SendSMS(ctx, seedMobile, client.ScenarioBindMobile, servertest.CaptchaToken)
	if err != nil {
		t.Fatal(err)
	}
	if res.RequestID != "trace-0001" {
		t.Errorf("RequestID = %q, want the caller's", res.RequestID)
	}
	d := seedDevice()
	want := map[string]string{
		"X-client-id": servertest.ClientID, "X-tenant-id": servertest.TenantID,
		"X-operating-sys-version": d.OSVersion, "X-device-fingerprint": d.Fingerprint,
		"X-device-ip": d.IP, "X-agent": d.UserAgent, "X-L": "zh", "X-Request-Id": "trace-0001",
	}
	for k, v := range want {
		if got := rec.header(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	// Another device, per call: its own headers, and its own device limit.
	other := client.Device{OSVersion: "iOS 18", Fingerprint: "other-device", UserAgent: "app/1.0"}
	ctx = client.ContextWithDevice(client.ContextWithRequestID(context.Background(), "bad id!"), other)
	if _, err := c.SendSMS(ctx, "13800138000", client.ScenarioLogin, servertest.CaptchaToken); err != nil {
		t.Fatal(err)
	}
	if rec.header("X-device-fingerprint") != "other-device" || rec.header("X-agent") != "app/1.0" ||
		rec.header("X-device-ip") != "" || rec.header("X-Request-Id") != "" {
		t.Errorf("per-call device headers not sent, or an invalid request id was: %v", rec.last)
	}

	// An invalid per-call value fails before any request.
	n := rec.count()
	bad := []context.Context{
		client.ContextWithDevice(context.Background(), client.Device{OSVersion: "x", UserAgent: "y"}),
		client.ContextWithLanguage(context.Background(), "not a language"),
	}
	for _, ctx := range bad {
		if err := c.VerifySMS(ctx, seedMobile, client.ScenarioBindMobile, "123456"); err == nil || client.CodeOf(err) != "" {
			t.Errorf("invalid per-call value: err = %v, want a local error", err)
		}
	}
	if rec.count() != n {
		t.Errorf("an invalid per-call value made a request")
	}
}

func TestNewValidates(t *testing.T) {
	base := func() []client.Option {
		return []client.Option{client.WithClientID(servertest.ClientID), client.WithDevice(seedDevice())}
	}
	with := func(opts ...client.Option) []client.Option { return append(base(), opts...) }
	device := func(edit func(*client.Device)) client.Option {
		d := seedDevice()
		edit(&d)
		return client.WithDevice(d)
	}
	tests := []struct {
		name    string
		url     string
		opts    []client.Option
		wantErr string // "" for success
	}{
		{"seed", "http://127.0.0.1:1", base(), ""},
		{"base URL with a path", "https://api.example.com/smscode", base(), ""},
		{"full options", "https://api.example.com", with(client.WithTenantID(servertest.TenantID),
			client.WithLanguage("en-US"), client.WithHTTPClient(&http.Client{}),
			client.WithRetry(client.RetryPolicy{MaxWait: time.Second, MaxAttempts: 3})), ""},
		{"no client id", "http://h", []client.Option{client.WithDevice(seedDevice())}, "client id"},
		{"client id with a space", "http://h", with(client.WithClientID("a b")), "client id"},
		{"no device", "http://h", []client.Option{client.WithClientID("app")}, "OS version"},
		{"no OS version", "http://h", with(device(func(d *client.Device) { d.OSVersion = "" })), "OS version"},
		{"no fingerprint", "http://h", with(device(func(d *client.Device) { d.Fingerprint = "" })), "fingerprint"},
		{"fingerprint with a space", "http://h", with(device(func(d *client.Device) { d.Fingerprint = "a b" })), "fingerprint"},
		{"no user agent", "http://h", with(device(func(d *client.Device) { d.UserAgent = "" })), "user agent"},
		{"bad IP", "http://h", with(device(func(d *client.Device) { d.IP = "10.0.0" })), "IP"},
		{"IP with a zone", "http://h", with(device(func(d *client.Device) { d.IP = "fe80::1%eth0" })), "IP"},
		{"bad tenant", "http://h", with(client.WithTenantID("t/1")), "tenant"},
		{"bad language", "http://h", with(client.WithLanguage("chinese!")), "language"},
		{"language list", "http://h", with(client.WithLanguage("en-US,zh;q=0.9")), ""},
		{"language any", "http://h", with(client.WithLanguage("*")), ""},
		{"language not a list", "http://h", with(client.WithLanguage("en;q=abc")), "language"},
		{"language too long", "http://h", with(client.WithLanguage(strings.Repeat("zh,", 67))), "language"},
		{"nil HTTP client", "http://h", with(client.WithHTTPClient(nil)), "WithHTTPClient"},
		{"negative retry", "http://h", with(client.WithRetry(client.RetryPolicy{MaxAttempts: -1})), "retry"},
		{"no scheme", "api.example.com", base(), "base URL"},
		{"ftp", "ftp://api.example.com", base(), "base URL"},
		{"empty URL", "", base(), "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.url, tt.opts...)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}
