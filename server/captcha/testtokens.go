package captcha

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
)

// TestTokens accepts fixed test tokens, for development and automated
// tests: a listed token passes every time (it is never marked used), and
// every other token goes to the next verifier. Put it in front of SingleUse
// so that test tokens stay reusable while real ones are single use.
type TestTokens struct {
	hashes [][sha256.Size]byte
	next   Verifier
}

var _ Verifier = (*TestTokens)(nil)

// NewTestTokens returns a TestTokens verifier that accepts tokens and hands
// every other token to next. Empty strings in tokens are ignored, so that an
// unset setting cannot make the empty token pass. A nil next refuses every
// unlisted token with CAPTCHA.0004.
func NewTestTokens(tokens []string, next Verifier) *TestTokens {
	t := &TestTokens{next: next}
	for _, tok := range tokens {
		if tok != "" {
			t.hashes = append(t.hashes, sha256.Sum256([]byte(tok)))
		}
	}
	return t
}

// Verify passes a listed token and asks the next verifier about any other.
func (t *TestTokens) Verify(ctx context.Context, req Request) error {
	if req.Token != "" && t.listed(req.Token) {
		return nil
	}
	if t.next == nil {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	return t.next.Verify(ctx, req)
}

// listed compares the token with every test token in constant time. The
// tokens are compared as SHA-256 digests, all of one length, because
// subtle.ConstantTimeCompare returns at once on a length mismatch and would
// tell an attacker how long a test token is; and no comparison stops early,
// so the time taken does not say which one matched.
func (t *TestTokens) listed(token string) bool {
	h := sha256.Sum256([]byte(token))
	match := 0
	for i := range t.hashes {
		match |= subtle.ConstantTimeCompare(h[:], t.hashes[i][:])
	}
	return match == 1
}
