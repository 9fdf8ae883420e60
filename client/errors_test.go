package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/smscode/smscode/client"
	"github.com/smscode/smscode/server/apierr"
)

// allCodes lists every ErrorCode constant of the package; the test below
// checks it against the spec's catalog, so that a code added to
// openapi.yaml without a constant in package client fails.
var allCodes = []client.ErrorCode{
	client.CodeAppNotFound, client.CodeAppIDRequired, client.CodeAppDisabled, client.CodeAppIDInvalid,
	client.CodeTenantIDInvalid, client.CodeOSVersionInvalid, client.CodeFingerprintInvalid,
	client.CodeAgentInvalid, client.CodeDeviceIPInvalid, client.CodeLanguageInvalid,
	client.CodeHeadersTooLarge, client.CodeBodyMalformed, client.CodeBodyTooLarge,
	client.CodeUnsupportedMediaType, client.CodeUnknownField, client.CodeNotFound,
	client.CodeMethodNotAllowed, client.CodeMobileRequired, client.CodeScenarioRequired,
	client.CodeVerifyCodeRequired, client.CodeCoordinatesRequired, client.CodeCaptchaTokenRequired,
	client.CodeCaptchaWrong, client.CodeCaptchaExpired, client.CodeCaptchaInvalid,
	client.CodeScenarioUnsupported, client.CodeCaptchaUnavailable, client.CodeCaptchaTooMany,
	client.CodeMobileInvalid, client.CodeDestinationBlocked, client.CodeTooFrequent,
	client.CodeNumberDailyLimit, client.CodeDeviceLimit, client.CodeIPLimit, client.CodeAppDailyQuota,
	client.CodePrefixBlocked, client.CodeProviderUnavailable, client.CodeProviderRejected,
	client.CodeWrong, client.CodeExpired, client.CodeAttemptsExceeded, client.CodeMalformed,
	client.CodeVerifyIPLimit, client.CodeVerifyDeviceLimit, client.CodeVerifyNumberDailyLimit,
	client.CodeVerifyCallerNumberDailyLimit,
	client.CodeReceiptUnauthenticated, client.CodeReceiptMalformed,
	client.CodeInternal, client.CodeStoreUnavailable, client.CodeNotImplemented,
}

// Every code of the spec's catalog has a constant, and no constant is
// outside it.
func TestAllCodesMatchCatalog(t *testing.T) {
	have := map[client.ErrorCode]bool{}
	for _, c := range allCodes {
		if have[c] {
			t.Errorf("%s listed twice", c)
		}
		have[c] = true
		if _, ok := apierr.Lookup(c); !ok {
			t.Errorf("%s is not in the spec", c)
		}
	}
	for _, e := range apierr.Catalog() {
		if !have[e.Code] {
			t.Errorf("%s (%s) has no constant in package client", e.Code, e.English)
		}
	}
}

func TestErrorIs(t *testing.T) {
	tooFrequent := &client.Error{StatusCode: 429, Code: client.CodeTooFrequent, Message: "m", RequestID: "r"}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code", tooFrequent, client.ErrTooFrequent, true},
		{"wrapped", fmt.Errorf("signup: %w", tooFrequent), client.ErrTooFrequent, true},
		{"ad hoc target", tooFrequent, &client.Error{Code: client.CodeTooFrequent}, true},
		{"other code", tooFrequent, client.ErrDeviceLimit, false},
		{"empty code target", tooFrequent, &client.Error{StatusCode: 429}, false},
		{"empty codes", &client.Error{StatusCode: 502}, &client.Error{StatusCode: 502}, false},
		{"not an *Error", errors.New("SMS.0001"), client.ErrTooFrequent, false},
		{"nil", nil, client.ErrTooFrequent, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestTemporaryAndRateLimited(t *testing.T) {
	tests := []struct {
		status               int
		temporary, ratelimit bool
	}{
		{http.StatusTooManyRequests, true, true},
		{http.StatusServiceUnavailable, true, false},
		{http.StatusInternalServerError, true, false},
		{http.StatusBadRequest, false, false},
		{http.StatusNotFound, false, false},
		{http.StatusBadGateway, false, false},
	}
	for _, tt := range tests {
		e := &client.Error{StatusCode: tt.status}
		if e.Temporary() != tt.temporary || client.IsRateLimited(e) != tt.ratelimit {
			t.Errorf("%d: Temporary %v, IsRateLimited %v; want %v, %v",
				tt.status, e.Temporary(), client.IsRateLimited(e), tt.temporary, tt.ratelimit)
		}
	}
	if client.IsRateLimited(errors.New("x")) || client.IsRateLimited(nil) {
		t.Error("IsRateLimited of a non-*Error")
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *client.Error
		want string
	}{
		{&client.Error{StatusCode: 429, Code: client.CodeTooFrequent, Message: "SMS sent too frequently. Try again later.",
			RequestID: "abc", RetryAfter: time.Minute},
			"smscode: 429 SMS.0001: SMS sent too frequently. Try again later. (retry after 1m0s) [request abc]"},
		{&client.Error{StatusCode: 502, Message: "unexpected answer: Bad Gateway"},
			"smscode: 502: unexpected answer: Bad Gateway"},
		{client.ErrCodeWrong, "smscode: 0 VERIFY.0001"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestSleepContext(t *testing.T) {
	if err := client.SleepContext(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := client.SleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("sleep on a cancelled context: %v after %v", err, time.Since(start))
	}
}
