// Package client is the Go client of the smscode API (and of Huawei Cloud
// OneAccess's "Sending an SMS Verification Code" API, which smscode
// implements): what a Go service imports to send a one-time code by SMS and
// to check the code the user typed.
//
//	c, err := client.New("https://sms.example.com",
//		client.WithClientID(clientID),
//		client.WithDevice(client.Device{OSVersion: "Android 10", Fingerprint: fp, UserAgent: ua}),
//		client.WithLanguage("zh"))
//	res, err := c.SendSMS(ctx, "12345678901", client.ScenarioBindMobile, captchaToken)
//	err = c.VerifySMS(ctx, "12345678901", client.ScenarioBindMobile, typedCode)
//
// It wraps the client generated from openapi.yaml (package gen) and adds
// what every caller would otherwise write: the required headers on every
// request, typed errors, and a cautious, opt-in retry.
//
// # Errors
//
// SendSMS and VerifySMS return nil on success. When the server answers with
// an error, the error is an *Error holding the HTTP status, the stable
// error code (such as SMS.0001), the message (in the language of
// WithLanguage), the request id and the Retry-After delay:
//
//	var ce *client.Error
//	if errors.As(err, &ce) && ce.Code == client.CodeTooFrequent {
//		// tell the user to wait ce.RetryAfter
//	}
//
// Two *Error values with the same Code match under errors.Is, and the
// package exports sentinels for the codes callers usually handle
// (ErrTooFrequent, ErrCodeWrong, ErrMobileInvalid, ...):
//
//	if errors.Is(err, client.ErrCodeWrong) { ... }
//
// For a code without a sentinel, compare CodeOf(err) with a Code constant,
// or match errors.Is(err, &client.Error{Code: client.CodeUnknownField}).
// (*Error).Temporary and IsRateLimited group the codes a caller may retry
// later. An answer that is not an smscode error body (say, a proxy's HTML
// 502 page) is still an *Error, with the status and an empty Code.
//
// Anything else is not an *Error: a refused connection, a timeout or a
// cancelled context is returned wrapped, so errors.Is(err,
// context.DeadlineExceeded) and friends work. After such an error the
// caller cannot know whether the server sent an SMS.
//
// # Retries
//
// A repeated send sends a second SMS, which costs money and confuses the
// user, so the client never repeats a request on its own. With WithRetry it
// repeats one only where the server said that nothing was sent and when to
// come back: a 429 or 503 smscode error with a Retry-After no longer than
// RetryPolicy.MaxWait. Transport errors and every other answer are returned
// at once.
package client
