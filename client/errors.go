package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smscode/smscode/gen"
)

// Error is an error answer from the server: any status other than 2xx.
// Two *Error values match under errors.Is when their Codes are equal and
// not empty, which is what the Err* sentinels are for.
type Error struct {
	// StatusCode is the HTTP status, such as 429.
	StatusCode int
	// Code is the error_code, such as CodeTooFrequent; empty when the body
	// was not an smscode error (a proxy's error page, say).
	Code ErrorCode
	// Message is the error_msg, for people: Chinese when the request's
	// language was zh, English otherwise. For a body that was not an
	// smscode error it is a generic text naming the status.
	Message string
	// RequestID is the X-Request-Id of the answer; quote it when reporting
	// a problem, as the server's logs carry it.
	RequestID string
	// RetryAfter is the Retry-After delay: when the same request can
	// succeed. Zero when the answer did not give one.
	RetryAfter time.Duration
}

// Sentinels for the codes callers usually handle, for errors.Is. Each
// matches any *Error with its Code, whatever the status, message or
// request id. They are shared values: do not modify them.
var (
	ErrAppNotFound          = &Error{Code: CodeAppNotFound}                  // APP.0001
	ErrAppDisabled          = &Error{Code: CodeAppDisabled}                  // APP.0003
	ErrScenarioUnsupported  = &Error{Code: CodeScenarioUnsupported}          // CAPTCHA.0005
	ErrCaptchaWrong         = &Error{Code: CodeCaptchaWrong}                 // CAPTCHA.0002
	ErrCaptchaExpired       = &Error{Code: CodeCaptchaExpired}               // CAPTCHA.0003
	ErrCaptchaInvalid       = &Error{Code: CodeCaptchaInvalid}               // CAPTCHA.0004
	ErrCaptchaUnavailable   = &Error{Code: CodeCaptchaUnavailable}           // CAPTCHA.0006
	ErrMobileInvalid        = &Error{Code: CodeMobileInvalid}                // USER.0038
	ErrDestinationBlocked   = &Error{Code: CodeDestinationBlocked}           // USER.0039
	ErrTooFrequent          = &Error{Code: CodeTooFrequent}                  // SMS.0001
	ErrNumberDailyLimit     = &Error{Code: CodeNumberDailyLimit}             // SMS.0002
	ErrDeviceLimit          = &Error{Code: CodeDeviceLimit}                  // SMS.0003
	ErrIPLimit              = &Error{Code: CodeIPLimit}                      // SMS.0004
	ErrAppDailyQuota        = &Error{Code: CodeAppDailyQuota}                // SMS.0005
	ErrPrefixBlocked        = &Error{Code: CodePrefixBlocked}                // SMS.0006
	ErrProviderUnavailable  = &Error{Code: CodeProviderUnavailable}          // SMS.0007
	ErrProviderRejected     = &Error{Code: CodeProviderRejected}             // SMS.0008
	ErrCodeWrong            = &Error{Code: CodeWrong}                        // VERIFY.0001
	ErrCodeExpired          = &Error{Code: CodeExpired}                      // VERIFY.0002
	ErrCodeAttemptsExceeded = &Error{Code: CodeAttemptsExceeded}             // VERIFY.0003
	ErrCodeMalformed        = &Error{Code: CodeMalformed}                    // VERIFY.0004
	ErrVerifyIPLimit        = &Error{Code: CodeVerifyIPLimit}                // VERIFY.0005
	ErrVerifyDeviceLimit    = &Error{Code: CodeVerifyDeviceLimit}            // VERIFY.0006
	ErrVerifyNumberDaily    = &Error{Code: CodeVerifyNumberDailyLimit}       // VERIFY.0007
	ErrVerifyCallerDaily    = &Error{Code: CodeVerifyCallerNumberDailyLimit} // VERIFY.0008
	ErrInternal             = &Error{Code: CodeInternal}                     // SYS.0001
	ErrStoreUnavailable     = &Error{Code: CodeStoreUnavailable}             // SYS.0002
	ErrNotImplemented       = &Error{Code: CodeNotImplemented}               // SYS.0003
)

// Error returns the status, code, message and request id on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smscode: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(string(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %v)", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString(" [request ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	return b.String()
}

// Is reports whether target is an *Error with the same, non-empty Code, so
// that errors.Is(err, ErrTooFrequent) holds for every SMS.0001 answer. An
// empty Code matches nothing: "not an smscode error" is not a kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Temporary reports whether the same request may succeed later without
// change: a 429 (a limit; see RetryAfter), a 503 (a dependency down) or a
// 500. The server sends nothing on any of them, so a retry cannot double an
// SMS, but mind the limits: retrying at once only meets them again.
func (e *Error) Temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusInternalServerError:
		return true
	}
	return false
}

// IsRateLimited reports whether err is, or wraps, a 429 *Error: a limit
// refused the request (for a send, SMS.0001 to SMS.0006).
func IsRateLimited(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == http.StatusTooManyRequests
}

// CodeOf returns the Code of the *Error in err's chain, or "" when there is
// none, for a switch over codes without a sentinel each.
func CodeOf(err error) ErrorCode {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}

// newError builds the *Error of a non-2xx answer from its status, headers
// and body (already read, possibly cut short).
func newError(resp *http.Response, body []byte) *Error {
	e := &Error{
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: seconds(resp.Header.Get("Retry-After")),
	}
	// The Content-Type is not checked: a body that decodes to an error code
	// is the server's, and anything else (an HTML page from a proxy, JSON of
	// another shape) must not pass for one.
	var b gen.Error
	if json.Unmarshal(body, &b) == nil && b.ErrorCode != "" {
		e.Code, e.Message = b.ErrorCode, b.ErrorMsg
		return e
	}
	e.Message = "unexpected answer: " + statusText(resp.StatusCode)
	return e
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "HTTP " + strconv.Itoa(code)
}

// seconds parses a header of whole seconds (Retry-After, X-Resend-After,
// X-Code-Expires-In); anything else, including an HTTP date, which this
// API never sends, is zero. The 32-bit bound keeps the Duration from
// overflowing on a hostile value.
func seconds(v string) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
