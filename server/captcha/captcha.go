// Package captcha checks the captcha_token of a send request before anything
// is sent. A Verifier checks one kind of token: the siteverify protocol shared
// by Cloudflare Turnstile and hCaptcha, fixed test tokens for development,
// and (in its own package) the built-in slider puzzle.
package captcha

import "context"

// Request is what a verifier needs to check a token.
type Request struct {
	// Token is the captcha_token as the client sent it.
	Token string
	// Mobile names the destination as tokens are bound to it (the
	// slider's sender): the sender passes a keyed id of the E.164 number,
	// never the number itself, so that no captcha record holds a number.
	// A token bound to another number must not pass.
	Mobile string
	// RemoteIP is the client's address as the server trusts it (never
	// X-device-ip).
	RemoteIP string
	// ClientID and TenantID name the application.
	ClientID string
	TenantID string
}

// Verifier checks a captcha token. It returns nil when the token is good and
// an *apierr.Error otherwise: CAPTCHA.0002 wrong, CAPTCHA.0003 expired,
// CAPTCHA.0004 unknown, malformed or replayed, CAPTCHA.0006 when the
// verification service cannot answer (fail closed).
type Verifier interface {
	Verify(ctx context.Context, req Request) error
}

// Unbound is implemented by a Verifier none of whose tokens is bound to a
// number: it never reads Request.Mobile, so a sender may leave it empty
// rather than work it out (the sender's is an HMAC of the number, one per
// send). A Verifier that does not implement Unbound is always given Mobile.
type Unbound interface {
	Verifier
	// Unbound marks the Verifier; it does nothing.
	Unbound()
}
