// Package store declares the state that the send pipeline keeps between
// requests (limit counters, pending codes and their attempt counts, used
// captcha tokens) as one small interface, each method one atomic step, so that
// concurrent requests and several server instances cannot slip past a limit.
//
// Implementations: memstore (one process) and redisstore (many). Both run the
// same conformance suite, storetest.Run.
//
// Keys are opaque strings built by the caller, each with the Redis Cluster
// hash tag ("{...}") of the entity it counts (a number, a device, a client
// address, an application), so that one application's keys spread over a
// cluster's slots. The keys of one call may therefore span slots: a single
// Redis (or Sentinel's primary) still makes each call one atomic script; a
// Redis Cluster makes it in steps, atomic per key, that may over-count a
// limit for a moment but never let more through than it allows (see
// redisstore's cluster.go).
package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// HashTag is the part of key that Redis Cluster hashes to pick its slot:
// the content of the first "{...}" when it is not empty, else the whole
// key (as Redis and go-redis read it). Keys with one tag go together: on
// one Redis node, in one memstore shard.
func HashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// ErrUnavailable is wrapped by every error a store returns when its backend
// cannot be reached; callers fail closed on it (503, nothing sent).
var ErrUnavailable = errors.New("store unavailable")

// ErrFull is wrapped (together with ErrUnavailable) by the error of a call
// that would add entries to a store that holds as many as it may (memstore's
// MaxEntries). The store refuses new work rather than evict live limit
// counters, which would let a flood reset the limits; callers fail closed on
// it as on any unavailable store (503 SYS.0002, nothing sent).
var ErrFull = errors.New("store full")

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

// VerifyRequest is one verify decision: check every limit, and only if none
// is full, compare Hash with the code under Key, then charge the limits that
// count the outcome.
type VerifyRequest struct {
	// Key is the code's key, Hash the HMAC of the code guessed.
	Key  string
	Hash []byte
	// Sources name the caller (its client address, its device): a code
	// takes at most its MaxAttempts wrong guesses from each source, and
	// is then dead for a caller with any spent source, while callers
	// whose sources are all fresh can still verify it. So a stranger's
	// guesses cannot kill the code of the person who asked for it. No
	// sources: one anonymous source, so that MaxAttempts wrong guesses
	// from anyone kill the code. At most MaxSources, each non-empty.
	Sources []string
	// Limits are checked before the code is looked at: when one is full
	// the attempt is refused, with nothing compared or counted.
	Limits []VerifyLimit
}

// MaxSources is how many sources a VerifyRequest may name.
const MaxSources = 4

// VerifyLimit is a limit of a verify decision and what it counts.
type VerifyLimit struct {
	Limit
	// Limit.Block must be zero: a verify limit refuses until its window
	// ends (ValidateVerify refuses a Block).
	//
	// AnyFailure counts every failed attempt (a wrong code, no code
	// pending, a code dead for the caller); otherwise only wrong codes,
	// which are the guesses against a pending code.
	AnyFailure bool
}

// VerifyResult says how a verify decision went.
type VerifyResult struct {
	Outcome VerifyOutcome
	// Refused is the index in VerifyRequest.Limits of the limit that
	// refused (the first full one) and RetryAfter when it has room again,
	// when Outcome is VerifyRefused.
	Refused    int
	RetryAfter time.Duration
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
	// VerifyTooManyAttempts: the code had MaxAttempts wrong attempts from
	// one of the caller's sources and is dead for this caller.
	VerifyTooManyAttempts
	// VerifyRefused: a limit was full; nothing was compared or counted.
	VerifyRefused
)

// Store is the pipeline's shared state. Every method is atomic, or, on a
// Redis Cluster with keys in several slots, exact in what it lets through
// (see the package comment).
type Store interface {
	// Reserve makes a send decision (see SendRequest).
	Reserve(ctx context.Context, req SendRequest) (SendResult, error)
	// Release undoes an allowed Reserve whose SMS was not delivered: it
	// gives back the count it took from each limit and deletes its code,
	// unless a newer send has replaced it.
	Release(ctx context.Context, req SendRequest, res SendResult) error
	// Verify makes a verify decision (see VerifyRequest): it checks the
	// limits, then compares the hash with the stored one; a match consumes
	// the code, a miss counts against each source and the limits that
	// count it.
	Verify(ctx context.Context, req VerifyRequest) (VerifyResult, error)
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

	// Deliveries: the messages waiting for their delivery receipts
	// (delivery.go).
	Deliveries

	// Conversion counts sends and verified codes per prefix for the
	// learning pumping defence (conversion.go).
	Conversion
}
