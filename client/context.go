package client

import "context"

// Per-call values. A service that relays for many users' devices has one
// Client but a device, a language and a trace id per incoming request;
// they travel in the context so that SendSMS and VerifySMS keep their
// plain signatures.
type (
	deviceKey    struct{}
	languageKey  struct{}
	requestIDKey struct{}
)

// ContextWithDevice returns a copy of ctx whose calls send d's headers
// instead of those of WithDevice. d is checked when the call is made; an
// invalid d fails the call before any request.
func ContextWithDevice(ctx context.Context, d Device) context.Context {
	return context.WithValue(ctx, deviceKey{}, d)
}

// ContextWithLanguage returns a copy of ctx whose calls send X-L: lang
// instead of the language of WithLanguage; "" sends no X-L, so that the
// application's default applies. lang is checked when the call is made.
func ContextWithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey{}, lang)
}

// ContextWithRequestID returns a copy of ctx whose calls send X-Request-Id:
// id, so that the server logs them under the caller's own trace id (a
// repeat by WithRetry carries the same id). The server accepts 1 to 64 of
// [A-Za-z0-9._-] and replaces anything else with an id of its own; the
// client then sends none. Either way SendResult.RequestID and
// Error.RequestID hold the id the server used.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}
