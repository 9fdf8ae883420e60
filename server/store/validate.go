package store

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is wrapped by the errors of requests that are caller bugs
// (a limit without key, a zero window...): never a reason to fail closed
// with 503, but a programming error to fix.
var ErrInvalid = errors.New("store: invalid request")

// Validate rejects a SendRequest that is a caller bug, before anything is
// counted. Every implementation calls it, so that they refuse the same
// requests: durations of at least a millisecond (the unit Redis expires
// in), distinct keys, a code with a hash, a TTL and at least one attempt.
func Validate(req SendRequest) error {
	for i, l := range req.Limits {
		switch {
		case l.Key == "":
			return invalid("limit %d has no key", i)
		case l.Max < 1:
			return invalid("limit %q has Max %d", l.Key, l.Max)
		case l.Window < time.Millisecond:
			return invalid("limit %q has Window %v", l.Key, l.Window)
		case l.Block < 0:
			return invalid("limit %q has Block %v", l.Key, l.Block)
		case l.Key == req.Code.Key:
			return invalid("key %q is both a limit and the code", l.Key)
		}
		for _, prev := range req.Limits[:i] {
			if prev.Key == l.Key {
				return invalid("limit key %q appears twice", l.Key)
			}
		}
	}
	if c := req.Code; c.Key != "" {
		switch {
		case c.TTL < time.Millisecond:
			return invalid("code %q has TTL %v", c.Key, c.TTL)
		case c.MaxAttempts < 1:
			return invalid("code %q has MaxAttempts %d", c.Key, c.MaxAttempts)
		case len(c.Hash) == 0:
			return invalid("code %q has no hash", c.Key)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// ValidateVerify rejects a VerifyRequest that is a caller bug: no code key,
// too many or empty sources, a limit with a Block (verify limits never
// block: redisstore's script has none, so a Block would mean one thing in
// memory and another in Redis), or a limit as Validate would refuse it.
func ValidateVerify(req VerifyRequest) error {
	if req.Key == "" {
		return invalid("verify without a code key")
	}
	if len(req.Sources) > MaxSources {
		return invalid("verify with %d sources, at most %d", len(req.Sources), MaxSources)
	}
	for i, src := range req.Sources {
		if src == "" {
			return invalid("verify source %d is empty", i)
		}
	}
	ls := make([]Limit, len(req.Limits))
	for i, l := range req.Limits {
		if l.Key == req.Key {
			return invalid("key %q is both a limit and the code", l.Key)
		}
		if l.Block != 0 {
			return invalid("verify limit %q has Block %v; verify limits do not block", l.Key, l.Block)
		}
		ls[i] = l.Limit
	}
	return Validate(SendRequest{Limits: ls})
}
