package captcha

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
)

// DefaultSingleUseTTL is how long SingleUse remembers a token when its ttl
// is not positive: twice Turnstile's 300-second token lifetime (hCaptcha's
// is shorter), so a token is still remembered for as long as its provider
// could accept it, with margin for clock skew.
const DefaultSingleUseTTL = 10 * time.Minute

// UseOncer records keys as used. store.Store satisfies it.
type UseOncer interface {
	// UseOnce records key as used for ttl and reports whether this was the
	// first use.
	UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// SingleUse makes tokens single use across every server instance that
// shares the store, whatever the verifier behind it would say about a
// replay. It marks a token used before asking the next verifier, so a token
// is spent by its first presentation even when that one was refused or the
// next verifier failed: a token cannot be tried twice.
//
// A used token is remembered under the key
//
//	apps.Tag(scope) + ":captcha:" + hex(sha256(token))
//
// where scope is the application, ClientID, followed by "/" and TenantID
// when a tenant is given ("/" cannot occur in either: the API admits only
// letters, digits, "-" and "_"). The braces are a Redis Cluster hash tag, so one
// application's keys stay on one node; only the token's digest is stored,
// never the token.
type SingleUse struct {
	store UseOncer
	ttl   time.Duration
	next  Verifier
}

var _ Verifier = (*SingleUse)(nil)

// NewSingleUse returns a SingleUse verifier that remembers tokens in u for
// ttl (DefaultSingleUseTTL when ttl is not positive; it should be at least
// the provider's token lifetime) and then asks next. A nil next refuses
// every token with CAPTCHA.0004, after marking it used.
func NewSingleUse(u UseOncer, ttl time.Duration, next Verifier) *SingleUse {
	if ttl <= 0 {
		ttl = DefaultSingleUseTTL
	}
	return &SingleUse{store: u, ttl: ttl, next: next}
}

// Verify refuses a token seen before with CAPTCHA.0004, and fails closed
// with SYS.0002 when the store cannot answer; otherwise it returns what the
// next verifier says.
func (s *SingleUse) Verify(ctx context.Context, req Request) error {
	if req.Token == "" {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	first, err := s.store.UseOnce(ctx, SingleUseKey(req), s.ttl)
	if err != nil {
		return apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
	}
	if !first {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	if s.next == nil {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	return s.next.Verify(ctx, req)
}

// SingleUseKey is the store key under which SingleUse remembers req's token
// (see SingleUse for its shape).
func SingleUseKey(req Request) string {
	sum := sha256.Sum256([]byte(req.Token))
	return apps.Tag(apps.Scope(req.ClientID, req.TenantID)) + ":captcha:" + hex.EncodeToString(sum[:])
}
