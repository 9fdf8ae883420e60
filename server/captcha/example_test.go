package captcha_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/captcha"
)

// The chain a server builds for an application that uses Turnstile: test
// tokens for development, then a single-use record in the shared store,
// then Cloudflare's siteverify.
func Example() {
	// A stand-in for Cloudflare that refuses every token; in production the
	// URL is captcha.TurnstileURL and the secret comes from configuration.
	cloudflare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
	}))
	defer cloudflare.Close()

	turnstile, err := captcha.NewSiteverify(captcha.SiteverifyConfig{
		URL:     cloudflare.URL,
		Secret:  "0x4AAAAAAA-example",
		Timeout: 3 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	var usedTokens captcha.UseOncer = newUseOnceStore() // the server passes its store.Store
	verifier := captcha.NewTestTokens([]string{"dev-only-token"},
		captcha.NewSingleUse(usedTokens, 10*time.Minute, turnstile))

	for _, token := range []string{"dev-only-token", "dev-only-token", "a-forged-token", "a-forged-token"} {
		err := verifier.Verify(context.Background(), captcha.Request{
			Token: token, ClientID: "DRrYIqauawN0I8my", RemoteIP: "203.0.113.7",
		})
		var ae *apierr.Error
		switch {
		case err == nil:
			fmt.Println(token, "passes")
		case errors.As(err, &ae):
			fmt.Println(token, "refused:", ae.Code)
		}
	}
	// Output:
	// dev-only-token passes
	// dev-only-token passes
	// a-forged-token refused: CAPTCHA.0004
	// a-forged-token refused: CAPTCHA.0004
}
