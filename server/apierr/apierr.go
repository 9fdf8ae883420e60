// Package apierr holds the errors the API answers with: each is a stable
// error code from openapi.yaml (gen.ErrorCode) with the HTTP status and the
// English and Chinese messages that the spec's x-error-codes list gives it.
//
// Domain packages return *Error values; the HTTP layer renders them as the
// spec's Error body. The catalog is read from the embedded spec, so the spec
// stays the single source of truth for codes, statuses and messages.
package apierr

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smscode/smscode/gen"
)

// Error is an API error: a documented code, and the cause (never shown to
// callers, only logged).
type Error struct {
	Code gen.ErrorCode
	// RetryAfter, when positive, is sent as the Retry-After header (whole
	// seconds, rounded up) on 429 and 503 answers.
	RetryAfter time.Duration
	// Err is the underlying cause, for logs and errors.Is; it never reaches
	// the response body.
	Err error
}

// New returns an Error with the given code.
func New(code gen.ErrorCode) *Error { return &Error{Code: code} }

// Wrap returns an Error with the given code whose cause is err.
func Wrap(code gen.ErrorCode, err error) *Error { return &Error{Code: code, Err: err} }

// Retry returns an Error with the given code that tells the caller to retry
// after d.
func Retry(code gen.ErrorCode, d time.Duration) *Error {
	return &Error{Code: code, RetryAfter: d}
}

// Error implements error; it names the code and the cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, Message(e.Code, "en"), e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, Message(e.Code, "en"))
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, apierr.New(code)) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Status is the HTTP status that goes with the error's code.
func (e *Error) Status() int { return Status(e.Code) }

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, at least 1
// when RetryAfter is positive, and 0 when it is not set.
func (e *Error) RetryAfterSeconds() int {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// From returns err as an *Error; any other error becomes SYS.0001 with err
// as its cause.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(gen.ErrorCodeInternal, err)
}

// Chinese reports whether an X-L value asks for Chinese messages: "zh" or
// any region or script of it ("zh-CN", "zh_Hans").
func Chinese(lang string) bool {
	if len(lang) < 2 || !strings.EqualFold(lang[:2], "zh") {
		return false
	}
	return len(lang) == 2 || lang[2] == '-' || lang[2] == '_'
}
