package altcha

import (
	"context"
	"strings"
	"testing"

	"github.com/smscode/smscode/gen"
)

// FuzzVerify sends arbitrary captcha_tokens (seeded with a real solution,
// its tampered kin and altcha-lib's payloads) to Verify and checks its
// contract: no panic; only the documented codes; a pass only for a
// payload that ParsePayload accepts, whose number solves its challenge,
// signed with the application's key and not expired; and never twice for
// one challenge.
func FuzzVerify(f *testing.F) {
	a, _ := newTest(f)
	c, _ := a.Issue("demo-app", MinMaxNumber)
	tok, _, _ := Solve(c)
	f.Add(tok)
	f.Add(EncodePayload(c, 0))
	f.Add(strings.Replace(tok, "A", "B", 1))
	f.Add("")
	f.Add("e30=") // {}
	f.Add("eyJhbGdvcml0aG0iOiJTSEEtMjU2In0=")
	f.Fuzz(func(t *testing.T, token string) {
		ctx := context.Background()
		err := a.Verify(ctx, req(token))
		got := code(err)
		switch got {
		case "", gen.ErrorCodeCaptchaInvalid, gen.ErrorCodeCaptchaWrong, gen.ErrorCodeCaptchaExpired:
		default:
			t.Fatalf("Verify(%q) = %q: not a documented code", token, got)
		}
		p, perr := ParsePayload(token)
		if perr != nil {
			if got != gen.ErrorCodeCaptchaInvalid {
				t.Fatalf("malformed %q (%v) got %q, want CAPTCHA.0004", token, perr, got)
			}
			return
		}
		if len(token) > MaxPayload || len(p.Salt) > maxSalt {
			t.Fatalf("ParsePayload accepted an over-long input")
		}
		if got == "" {
			if hashHex(p.Salt, p.Number) != p.Challenge || signWith(a.HMACKey("demo-app"), p.Challenge) != p.Signature {
				t.Fatalf("passed %q, which does not solve a signed challenge", token)
			}
			if again := code(a.Verify(ctx, req(token))); again != gen.ErrorCodeCaptchaInvalid {
				t.Fatalf("replay of %q = %q, want CAPTCHA.0004", token, again)
			}
		}
	})
}
