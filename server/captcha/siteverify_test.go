package captcha_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/captcha"
)

const testSecret = "0x4AAAAAAAsecret-never-shown"

// fakeSiteverify is a local siteverify endpoint that checks what the real
// ones require (a POST with a form-encoded secret and response) and answers
// with a canned body.
type fakeSiteverify struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
}

// newFakeSiteverify answers every well-formed request with status and body.
func newFakeSiteverify(t *testing.T, status int, body string) *fakeSiteverify {
	t.Helper()
	f := &fakeSiteverify{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q, want a form", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("body is not a form: %v", err)
		}
		if len(r.URL.Query()) != 0 {
			t.Errorf("query %q: the secret and token belong in the body", r.URL.RawQuery)
		}
		if got := r.PostForm.Get("secret"); got != testSecret {
			t.Errorf("secret = %q, want the configured one", got)
		}
		if r.PostForm.Get("response") == "" {
			t.Error("no response (token) field")
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSiteverify) calls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

func newVerifier(t *testing.T, u string, timeout time.Duration, log *bytes.Buffer) *captcha.Siteverify {
	t.Helper()
	v, err := captcha.NewSiteverify(captcha.SiteverifyConfig{
		URL:     u,
		Secret:  testSecret,
		Timeout: timeout,
		Logger:  slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantCode fails unless err is an *apierr.Error with code (nil code: no
// error), and checks that no error string carries the secret.
func wantCode(t *testing.T, err error, code gen.ErrorCode) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want *apierr.Error %s", err, err, code)
	}
	if ae.Code != code {
		t.Fatalf("code = %s (%v), want %s", ae.Code, err, code)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error string carries the secret: %v", err)
	}
}

var req = captcha.Request{Token: "XXXX.DUMMY.TOKEN", RemoteIP: "203.0.113.7", ClientID: "app", Mobile: "+8612345678901"}

// The answers are those the providers document.
func TestSiteverifyAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    gen.ErrorCode
		logsErr bool
	}{
		{"turnstile success", 200, `{"success":true,"challenge_ts":"2022-02-28T15:14:30.096Z","hostname":"example.com","error-codes":[],"action":"login","cdata":"sessionid-123456789"}`, "", false},
		{"hcaptcha success", 200, `{"success":true,"challenge_ts":"2021-10-02T18:12:10.149Z","hostname":"example.com","credit":false}`, "", false},
		{"invalid token", 200, `{"success":false,"error-codes":["invalid-input-response"]}`, gen.ErrorCodeCaptchaInvalid, false},
		{"turnstile timeout or duplicate", 200, `{"success":false,"error-codes":["timeout-or-duplicate"]}`, gen.ErrorCodeCaptchaInvalid, false},
		{"missing token", 200, `{"success":false,"error-codes":["missing-input-response"]}`, gen.ErrorCodeCaptchaInvalid, false},
		{"hcaptcha expired", 200, `{"success":false,"error-codes":["expired-input-response"]}`, gen.ErrorCodeCaptchaExpired, false},
		{"hcaptcha already seen", 200, `{"success":false,"error-codes":["already-seen-response"]}`, gen.ErrorCodeCaptchaInvalid, false},
		{"hcaptcha invalid or already seen", 200, `{"success":false,"error-codes":["invalid-or-already-seen-response"]}`, gen.ErrorCodeCaptchaInvalid, false},
		{"hcaptcha dummy token with a real secret", 200, `{"success":false,"error-codes":["not-using-dummy-passcode"]}`, gen.ErrorCodeCaptchaInvalid, false},
		{"expired wins over invalid", 200, `{"success":false,"error-codes":["invalid-input-response","expired-input-response"]}`, gen.ErrorCodeCaptchaExpired, false},
		{"failed without a reason", 200, `{"success":false,"error-codes":[]}`, gen.ErrorCodeCaptchaWrong, false},
		{"failed without error-codes", 200, `{"success":false}`, gen.ErrorCodeCaptchaWrong, false},
		{"unknown code", 200, `{"success":false,"error-codes":["some-future-code"]}`, gen.ErrorCodeCaptchaWrong, false},
		{"invalid secret", 200, `{"success":false,"error-codes":["invalid-input-secret"]}`, gen.ErrorCodeCaptchaUnavailable, true},
		{"missing secret", 200, `{"success":false,"error-codes":["missing-input-secret"]}`, gen.ErrorCodeCaptchaUnavailable, true},
		{"bad request", 200, `{"success":false,"error-codes":["bad-request"]}`, gen.ErrorCodeCaptchaUnavailable, true},
		{"hcaptcha sitekey mismatch", 200, `{"success":false,"error-codes":["sitekey-secret-mismatch"]}`, gen.ErrorCodeCaptchaUnavailable, true},
		{"hcaptcha invalid remoteip", 200, `{"success":false,"error-codes":["invalid-remoteip"]}`, gen.ErrorCodeCaptchaUnavailable, true},
		{"misconfiguration wins", 200, `{"success":false,"error-codes":["invalid-input-response","invalid-input-secret"]}`, gen.ErrorCodeCaptchaUnavailable, true},
		{"turnstile internal error", 200, `{"success":false,"error-codes":["internal-error"]}`, gen.ErrorCodeCaptchaUnavailable, false},
		{"HTTP 500", 500, `{"success":true}`, gen.ErrorCodeCaptchaUnavailable, false},
		{"HTTP 429", 429, `rate limited`, gen.ErrorCodeCaptchaUnavailable, false},
		{"HTML page", 200, `<html>Just a moment...</html>`, gen.ErrorCodeCaptchaUnavailable, false},
		{"no success field", 200, `{"error-codes":[]}`, gen.ErrorCodeCaptchaUnavailable, false},
		{"success is a string", 200, `{"success":"true"}`, gen.ErrorCodeCaptchaUnavailable, false},
		{"too long", 200, `{"success":true,"pad":"` + strings.Repeat("x", 5000) + `"}`, gen.ErrorCodeCaptchaUnavailable, false},
		{"empty body", 200, ``, gen.ErrorCodeCaptchaUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSiteverify(t, tt.status, tt.body)
			var log bytes.Buffer
			v := newVerifier(t, f.URL, time.Second, &log)
			wantCode(t, v.Verify(t.Context(), req), tt.want)

			calls := f.calls()
			if len(calls) != 1 {
				t.Fatalf("%d calls, want 1", len(calls))
			}
			if got := calls[0].Get("response"); got != req.Token {
				t.Errorf("response = %q, want %q", got, req.Token)
			}
			if got := calls[0].Get("remoteip"); got != req.RemoteIP {
				t.Errorf("remoteip = %q, want %q", got, req.RemoteIP)
			}
			if logged := strings.Contains(log.String(), "level=ERROR"); logged != tt.logsErr {
				t.Errorf("error logged = %v, want %v: %s", logged, tt.logsErr, log.String())
			}
			if strings.Contains(log.String(), testSecret) {
				t.Errorf("log carries the secret: %s", log.String())
			}
		})
	}
}

func TestSiteverifyOmitsEmptyRemoteIP(t *testing.T) {
	f := newFakeSiteverify(t, 200, `{"success":true}`)
	v := newVerifier(t, f.URL, time.Second, &bytes.Buffer{})
	r := req
	r.RemoteIP = ""
	wantCode(t, v.Verify(t.Context(), r), "")
	if _, ok := f.calls()[0]["remoteip"]; ok {
		t.Error("remoteip sent though unknown")
	}
}

func TestSiteverifyEmptyTokenIsNotSent(t *testing.T) {
	f := newFakeSiteverify(t, 200, `{"success":true}`)
	v := newVerifier(t, f.URL, time.Second, &bytes.Buffer{})
	wantCode(t, v.Verify(t.Context(), captcha.Request{}), gen.ErrorCodeCaptchaInvalid)
	if n := len(f.calls()); n != 0 {
		t.Errorf("%d calls for an empty token", n)
	}
}

// A provider that never answers costs one timeout, then fails closed.
func TestSiteverifyHangingProvider(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets the handler end

	const timeout = 50 * time.Millisecond
	v := newVerifier(t, srv.URL, timeout, &bytes.Buffer{})
	start := time.Now()
	wantCode(t, v.Verify(t.Context(), req), gen.ErrorCodeCaptchaUnavailable)
	if d := time.Since(start); d > timeout+2*time.Second {
		t.Errorf("Verify took %v with a %v timeout", d, timeout)
	}
}

func TestSiteverifyUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close() // nothing listens there any more
	v := newVerifier(t, u, time.Second, &bytes.Buffer{})
	wantCode(t, v.Verify(t.Context(), req), gen.ErrorCodeCaptchaUnavailable)
}

func TestSiteverifyCanceledContext(t *testing.T) {
	f := newFakeSiteverify(t, 200, `{"success":true}`)
	v := newVerifier(t, f.URL, time.Second, &bytes.Buffer{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantCode(t, v.Verify(ctx, req), gen.ErrorCodeCaptchaUnavailable)
}

// The default client does not follow a redirect: a 307 would re-post the
// secret to wherever it points.
func TestSiteverifyDoesNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Store(true)
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	t.Cleanup(target.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)

	v := newVerifier(t, srv.URL, time.Second, &bytes.Buffer{})
	wantCode(t, v.Verify(t.Context(), req), gen.ErrorCodeCaptchaUnavailable)
	if elsewhere.Load() {
		t.Error("the redirect was followed")
	}
}

func TestSiteverifyCustomClient(t *testing.T) {
	f := newFakeSiteverify(t, 200, `{"success":true}`)
	var used bool
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	v, err := captcha.NewSiteverify(captcha.SiteverifyConfig{URL: f.URL, Secret: testSecret, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, v.Verify(t.Context(), req), "")
	if !used {
		t.Error("the configured client was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewSiteverifyConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  captcha.SiteverifyConfig
		ok   bool
	}{
		{"turnstile", captcha.SiteverifyConfig{URL: captcha.TurnstileURL, Secret: "s"}, true},
		{"hcaptcha", captcha.SiteverifyConfig{URL: captcha.HCaptchaURL, Secret: "s", Timeout: time.Second}, true},
		{"no URL", captcha.SiteverifyConfig{Secret: "s"}, false},
		{"relative URL", captcha.SiteverifyConfig{URL: "/siteverify", Secret: "s"}, false},
		{"other scheme", captcha.SiteverifyConfig{URL: "ftp://example.com/siteverify", Secret: "s"}, false},
		{"no secret", captcha.SiteverifyConfig{URL: captcha.TurnstileURL}, false},
		{"negative timeout", captcha.SiteverifyConfig{URL: captcha.TurnstileURL, Secret: "s", Timeout: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := captcha.NewSiteverify(tt.cfg)
			if (err == nil) != tt.ok || (v != nil) != tt.ok {
				t.Fatalf("NewSiteverify = %v, %v; want ok %v", v, err, tt.ok)
			}
		})
	}
}
