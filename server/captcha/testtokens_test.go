package captcha_test

import (
	"testing"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/captcha"
)

func TestTestTokens(t *testing.T) {
	tokens := []string{"", "dev-token-1", "dev-token-2"}
	tests := []struct {
		name      string
		token     string
		next      *stubVerifier
		want      gen.ErrorCode
		nextCalls int
	}{
		{"first listed", "dev-token-1", &stubVerifier{}, "", 0},
		{"last listed", "dev-token-2", &stubVerifier{}, "", 0},
		{"prefix of a listed token", "dev-token", &stubVerifier{err: apierr.New(gen.ErrorCodeCaptchaWrong)}, gen.ErrorCodeCaptchaWrong, 1},
		{"listed token plus suffix", "dev-token-12", &stubVerifier{}, "", 1},
		{"other case", "DEV-TOKEN-1", &stubVerifier{err: apierr.New(gen.ErrorCodeCaptchaInvalid)}, gen.ErrorCodeCaptchaInvalid, 1},
		{"empty token does not match the empty entry", "", &stubVerifier{err: apierr.New(gen.ErrorCodeCaptchaInvalid)}, gen.ErrorCodeCaptchaInvalid, 1},
		{"unlisted, next accepts", "real-token", &stubVerifier{}, "", 1},
		{"unlisted, no next", "real-token", nil, gen.ErrorCodeCaptchaInvalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var next captcha.Verifier
			if tt.next != nil {
				next = tt.next
			}
			v := captcha.NewTestTokens(tokens, next)
			r := captcha.Request{Token: tt.token, ClientID: "app"}
			wantCode(t, v.Verify(t.Context(), r), tt.want)
			if tt.next != nil && tt.next.count() != tt.nextCalls {
				t.Errorf("next called %d times, want %d", tt.next.count(), tt.nextCalls)
			}
		})
	}
}

// A test token stays good however often it is used.
func TestTestTokensReusable(t *testing.T) {
	v := captcha.NewTestTokens([]string{"dev"}, nil)
	for range 3 {
		wantCode(t, v.Verify(t.Context(), captcha.Request{Token: "dev"}), "")
	}
}

func TestTestTokensNoList(t *testing.T) {
	next := &stubVerifier{}
	v := captcha.NewTestTokens(nil, next)
	wantCode(t, v.Verify(t.Context(), captcha.Request{Token: "anything"}), "")
	if next.count() != 1 {
		t.Errorf("next called %d times, want 1", next.count())
	}
}
