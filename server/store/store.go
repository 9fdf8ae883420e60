// Package store declares the state that the send pipeline keeps between
// requests (limit counters, pending codes and their attempt counts, used
// captcha tokens) as one small interface, each method one atomic step, so that
// concurrent requests and several server instances cannot slip past a limit.
//
// Implementations: memstore (one process) and redisstore (many). Both run the
// same conformance suite, storetest.Run.
//
// Keys are opaque strings built by the caller. Keys that one call touches
// together share a Redis Cluster hash tag ("{...}"), so a Redis store can run
// each call as one script on one node.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable is wrapped by every error a store returns when its backend
// cannot be reached; callers fail closed on it (503, nothing sent).
var ErrUnavailable = errors.New("store unavailable")

// Limit is one rate limit: at most Max events per Window under Key. The
// window starts at the first event and ends Window later (a fixed window
// anchored at its first event), so Max 1 per 60 s is an exact 60 s cooldown.
type Limit struct {
	Key    string
	Max    int64
	Window time.Duration
	// Block, when positive, is how long Key stays refused once this limit
	// has refused a request (the SMS-pumping defence blocks a prefix for
	// hours after a spike). Zero: refused until the window ends.
	Block time.Duration
}

// Code is a pending one-time code, stored only as an HMAC.
type Code struct {
	Key         string
	Hash        []byte
	TTL         time.Duration
	MaxAttempts int
}

// SendRequest is one send decision: check every limit, and only if none
// refuses, count the send against each and store the code (replacing any
// code pending under the same key).
type SendRequest struct {
	Limits []Limit
	Code   Code
}

// SendResult says how a send decision went.
type SendResult struct {
	// Allowed is true when every limit had room: the send was counted and
	// the code stored.
	Allowed bool
	// Refused is the index in SendRequest.Limits of a limit that refused
	// (the first in order), when Allowed is false.
	Refused int
	// RetryAfter is when the refusing limit will have room again.
	RetryAfter time.Duration
	// Reservation names this send's stored code, so that Release removes
	// it and not a newer one.
	Reservation string
}

// VerifyOutcome is the result of checking a code.
type VerifyOutcome int

const (
	// VerifyOK: the code matched and is now consumed.
	VerifyOK VerifyOutcome = iota + 1
	// VerifyWrong: the code did not match; the attempt was counted.
	VerifyWrong
	// VerifyNotFound: no code is pending (never sent, expired or used).
	VerifyNotFound
	// VerifyTooManyAttempts: the code had MaxAttempts wrong attempts and is dead.
	VerifyTooManyAttempts
)

// Store is the pipeline's shared state. Every method is atomic.
type Store interface {
	// Reserve makes a send decision (see SendRequest).
	Reserve(ctx context.Context, req SendRequest) (SendResult, error)
	// Release undoes an allowed Reserve whose SMS was not delivered: it
	// gives back the count it took from each limit and deletes its code,
	// unless a newer send has replaced it.
	Release(ctx context.Context, req SendRequest, res SendResult) error
	// Verify counts an attempt against the code under key, then compares
	// hash with the stored one in constant time; a match consumes the code.
	// After MaxAttempts wrong attempts the code is dead.
	Verify(ctx context.Context, key string, hash []byte) (VerifyOutcome, error)
	// UseOnce records key as used for ttl and reports whether this was the
	// first use (single-use captcha tokens).
	UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Put stores value under key for ttl, replacing any value there
	// (captcha puzzles and verified captcha tokens).
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Take returns the value under key and deletes it, in one step: of
	// several concurrent calls for one key, exactly one gets the value.
	// ok is false when there is no value (never put, expired or taken).
	Take(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Ping reports whether the backend is reachable (/readyz).
	Ping(ctx context.Context) error
}
