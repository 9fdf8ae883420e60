package captcha_test

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/store"
)

// store.Store is what the server passes in.
var _ captcha.UseOncer = store.Store(nil)

func TestSingleUse(t *testing.T) {
	refused := apierr.New(gen.ErrorCodeCaptchaWrong)
	tests := []struct {
		name      string
		nextErr   error
		storeErr  error
		noNext    bool
		token     string
		want      []gen.ErrorCode // one per Verify of the same token
		nextCalls int
	}{
		{"good token once", nil, nil, false, "tok", []gen.ErrorCode{"", gen.ErrorCodeCaptchaInvalid}, 1},
		{"refused token is spent too", refused, nil, false, "tok", []gen.ErrorCode{gen.ErrorCodeCaptchaWrong, gen.ErrorCodeCaptchaInvalid}, 1},
		{"store down fails closed", nil, errors.New("dial tcp: refused"), false, "tok", []gen.ErrorCode{gen.ErrorCodeStoreUnavailable}, 0},
		{"no next refuses", nil, nil, true, "tok", []gen.ErrorCode{gen.ErrorCodeCaptchaInvalid, gen.ErrorCodeCaptchaInvalid}, 0},
		{"empty token", nil, nil, false, "", []gen.ErrorCode{gen.ErrorCodeCaptchaInvalid}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newUseOnceStore()
			st.err = tt.storeErr
			next := &stubVerifier{err: tt.nextErr}
			var v *captcha.SingleUse
			if tt.noNext {
				v = captcha.NewSingleUse(st, time.Minute, nil)
			} else {
				v = captcha.NewSingleUse(st, time.Minute, next)
			}
			r := captcha.Request{Token: tt.token, ClientID: "app"}
			for i, want := range tt.want {
				err := v.Verify(t.Context(), r)
				wantCode(t, err, want)
				if want == gen.ErrorCodeStoreUnavailable && !errors.Is(err, tt.storeErr) {
					t.Errorf("Verify #%d: %v does not wrap the store's error", i+1, err)
				}
			}
			if next.count() != tt.nextCalls {
				t.Errorf("next called %d times, want %d", next.count(), tt.nextCalls)
			}
		})
	}
}

// The same token is spent per application: another application (or tenant)
// has its own record.
func TestSingleUseScope(t *testing.T) {
	st := newUseOnceStore()
	v := captcha.NewSingleUse(st, time.Minute, &stubVerifier{})
	for _, r := range []captcha.Request{
		{Token: "tok", ClientID: "a"},
		{Token: "tok", ClientID: "b"},
		{Token: "tok", ClientID: "a", TenantID: "t1"},
		{Token: "tok", ClientID: "a", TenantID: "t2"},
	} {
		wantCode(t, v.Verify(t.Context(), r), "")
	}
	wantCode(t, v.Verify(t.Context(), captcha.Request{Token: "tok", ClientID: "a", TenantID: "t1"}), gen.ErrorCodeCaptchaInvalid)
}

func TestSingleUseKey(t *testing.T) {
	shape := regexp.MustCompile(`^\{[A-Za-z0-9_/-]+\}:captcha:[0-9a-f]{64}$`)
	tests := []struct {
		req  captcha.Request
		want string
	}{
		// hex(sha256("tok")), as sha256sum prints it
		{captcha.Request{Token: "tok", ClientID: "app"}, "{app}:captcha:1a7674eb4ee78df7e1ac439a93c3fa8e3c945784d4dec9fd8e3011738b2f1d62"},
		{captcha.Request{Token: "tok", ClientID: "app", TenantID: "t1"}, "{app/t1}:captcha:1a7674eb4ee78df7e1ac439a93c3fa8e3c945784d4dec9fd8e3011738b2f1d62"},
	}
	for _, tt := range tests {
		got := captcha.SingleUseKey(tt.req)
		if !shape.MatchString(got) {
			t.Errorf("key %q has the wrong shape", got)
		}
		if got != tt.want {
			t.Errorf("SingleUseKey(%+v) = %q, want %q", tt.req, got, tt.want)
		}
	}
}

func TestSingleUseTTL(t *testing.T) {
	tests := []struct {
		ttl, want time.Duration
	}{
		{time.Minute, time.Minute},
		{0, captcha.DefaultSingleUseTTL},
		{-time.Second, captcha.DefaultSingleUseTTL},
	}
	for _, tt := range tests {
		st := newUseOnceStore()
		r := captcha.Request{Token: "tok", ClientID: "app"}
		_ = captcha.NewSingleUse(st, tt.ttl, &stubVerifier{}).Verify(t.Context(), r)
		if got := st.used[captcha.SingleUseKey(r)]; got != tt.want {
			t.Errorf("ttl %v: stored for %v, want %v", tt.ttl, got, tt.want)
		}
	}
}

// The chain the server builds: test tokens first (reusable), then the
// single-use record, then the provider.
func TestChainTestTokensSingleUseSiteverify(t *testing.T) {
	f := newFakeSiteverify(t, 200, `{"success":false,"error-codes":["invalid-input-response"]}`)
	sv := newVerifier(t, f.URL, time.Second, &bytes.Buffer{})
	v := captcha.NewTestTokens([]string{"dev-token"}, captcha.NewSingleUse(newUseOnceStore(), time.Minute, sv))

	dev := captcha.Request{Token: "dev-token", ClientID: "app"}
	real := captcha.Request{Token: "real-token", ClientID: "app", RemoteIP: "198.51.100.2"}
	steps := []struct {
		req   captcha.Request
		want  gen.ErrorCode
		calls int // siteverify calls so far
	}{
		{dev, "", 0},
		{dev, "", 0},
		{real, gen.ErrorCodeCaptchaInvalid, 1}, // siteverify said no
		{real, gen.ErrorCodeCaptchaInvalid, 1}, // spent: siteverify not asked again
		{dev, "", 1},
	}
	for i, s := range steps {
		wantCode(t, v.Verify(t.Context(), s.req), s.want)
		if n := len(f.calls()); n != s.calls {
			t.Fatalf("step %d: %d siteverify calls, want %d", i+1, n, s.calls)
		}
	}
}
