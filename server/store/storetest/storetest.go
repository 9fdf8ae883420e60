// Package storetest is the conformance suite for store.Store: every
// implementation runs the same Run, so that the memory and Redis stores
// cannot drift apart (one contract, as Kratos tests each persister).
//
// The suite is written for a real clock as well as a fake one: windows are a
// few hundred milliseconds, subtests run in parallel so that their waits
// overlap, and durations the store reports are checked within a tolerance.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// Harness tells Run how to get a store and how to move its time.
type Harness struct {
	// New returns an empty-or-shared store for test t. Run calls it once
	// per subtest; subtests run in parallel and use keys of their own, so
	// New may return the same store (one Redis) or a fresh one each time.
	New func(t *testing.T) store.Store
	// Advance moves the time of the store that New returned for the same t
	// forward by d: a fake clock moves, a real Redis is slept on. Because
	// subtests run in parallel, a fake clock must belong to t's store only.
	Advance func(t *testing.T, d time.Duration)
}

// Durations used by the suite. They are short because a real Redis is
// slept on, and far enough apart that a slow CI machine (race detector, two
// shared cores) stays within tolerance.
const (
	window = 400 * time.Millisecond
	// tolerance is how much earlier than exact a real clock may report a
	// remaining duration: the time operations took between the event and
	// the check.
	tolerance = 150 * time.Millisecond
	// past is how far Advance goes beyond an expiry, since Redis expires a
	// key only once its clock is strictly past the deadline.
	past = 20 * time.Millisecond
)

// Run runs the conformance suite against the stores h makes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	nonce := make([]byte, 4)
	_, _ = rand.Read(nonce)
	s := &suite{h: h, nonce: hex.EncodeToString(nonce)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, s.env(t))
		})
	}
}

type suite struct {
	h     Harness
	nonce string // keeps keys apart from an earlier run on the same Redis
	seq   atomic.Int64
}

// env is one subtest's view: its store, its clock and its keys.
type env struct {
	t   *testing.T
	s   store.Store
	h   Harness
	tag string
}

func (s *suite) env(t *testing.T) *env {
	name := strings.NewReplacer("/", ".", "{", "(", "}", ")").Replace(t.Name())
	return &env{
		t:   t,
		s:   s.h.New(t),
		h:   s.h,
		tag: fmt.Sprintf("{%s.%s.%d}", name, s.nonce, s.seq.Add(1)),
	}
}

// key returns a key of name's own hash tag within the subtest's, as the
// sender builds them: the keys of one call carry the tags of the entities
// they count (a number, a device, an address), so that a Redis Cluster
// store has to make one decision over several slots.
func (e *env) key(name string) string { return e.keyIn(name, name) }

// keyIn returns key name under the hash tag of entity within the subtest's:
// keys of one entity share a slot.
func (e *env) keyIn(entity, name string) string {
	sum := sha256.Sum256([]byte(entity))
	return e.tag[:len(e.tag)-1] + "." + hex.EncodeToString(sum[:4]) + "}:" + name
}

// sharedKey returns a key under the subtest's hash tag itself: keys that
// one call needs in one slot (the conversion keys) share it.
func (e *env) sharedKey(name string) string { return e.tag + ":" + name }

func (e *env) advance(d time.Duration) { e.h.Advance(e.t, d) }

func (e *env) limit(name string, max int64, w time.Duration) store.Limit {
	return store.Limit{Key: e.key(name), Max: max, Window: w}
}

// code returns a pending code under key name whose hash is derived from
// value, so that different values give different hashes of HMAC size.
func (e *env) code(name, value string, maxAttempts int) store.Code {
	return store.Code{Key: e.key(name), Hash: hash(value), TTL: time.Minute, MaxAttempts: maxAttempts}
}

func hash(value string) []byte {
	h := make([]byte, 32)
	copy(h, value)
	h[31] = byte(len(value))
	return h
}

func (e *env) reserve(req store.SendRequest) store.SendResult {
	e.t.Helper()
	res, err := e.s.Reserve(context.Background(), req)
	if err != nil {
		e.t.Fatalf("Reserve: %v", err)
	}
	return res
}

func (e *env) mustAllow(req store.SendRequest) store.SendResult {
	e.t.Helper()
	res := e.reserve(req)
	if !res.Allowed {
		e.t.Fatalf("Reserve refused (limit %d, retry after %v), want allowed", res.Refused, res.RetryAfter)
	}
	if res.Reservation == "" && req.Code.Key != "" {
		e.t.Fatal("allowed Reserve has no Reservation")
	}
	return res
}

// mustRefuse checks the refusing limit and that RetryAfter is at most want
// and no more than tolerance below it.
func (e *env) mustRefuse(req store.SendRequest, index int, want time.Duration) store.SendResult {
	e.t.Helper()
	res := e.reserve(req)
	if res.Allowed {
		e.t.Fatalf("Reserve allowed, want refused by limit %d", index)
	}
	if res.Refused != index {
		e.t.Errorf("Refused = %d, want %d", res.Refused, index)
	}
	if res.RetryAfter > want || res.RetryAfter < want-tolerance || res.RetryAfter <= 0 {
		e.t.Errorf("RetryAfter = %v, want within (%v, %v]", res.RetryAfter, want-tolerance, want)
	}
	return res
}

func (e *env) verify(name, value string) store.VerifyOutcome {
	e.t.Helper()
	return e.verifyReq(store.VerifyRequest{Key: e.key(name), Hash: hash(value)}).Outcome
}

// verifyFrom verifies from the given sources under the given limits.
func (e *env) verifyFrom(name, value string, sources []string, limits ...store.VerifyLimit) store.VerifyResult {
	e.t.Helper()
	return e.verifyReq(store.VerifyRequest{Key: e.key(name), Hash: hash(value), Sources: sources, Limits: limits})
}

func (e *env) verifyReq(req store.VerifyRequest) store.VerifyResult {
	e.t.Helper()
	res, err := e.s.Verify(context.Background(), req)
	if err != nil {
		e.t.Fatalf("Verify: %v", err)
	}
	return res
}

func (e *env) wantVerify(name, value string, want store.VerifyOutcome) {
	e.t.Helper()
	if got := e.verify(name, value); got != want {
		e.t.Errorf("Verify(%s, %q) = %s, want %s", name, value, outcomeName(got), outcomeName(want))
	}
}

func (e *env) release(req store.SendRequest, res store.SendResult) {
	e.t.Helper()
	if err := e.s.Release(context.Background(), req, res); err != nil {
		e.t.Fatalf("Release: %v", err)
	}
}

func (e *env) useOnce(name string, ttl time.Duration) bool {
	e.t.Helper()
	first, err := e.s.UseOnce(context.Background(), e.key(name), ttl)
	if err != nil {
		e.t.Fatalf("UseOnce: %v", err)
	}
	return first
}

func outcomeName(o store.VerifyOutcome) string {
	switch o {
	case store.VerifyOK:
		return "VerifyOK"
	case store.VerifyWrong:
		return "VerifyWrong"
	case store.VerifyNotFound:
		return "VerifyNotFound"
	case store.VerifyTooManyAttempts:
		return "VerifyTooManyAttempts"
	case store.VerifyRefused:
		return "VerifyRefused"
	}
	return fmt.Sprintf("VerifyOutcome(%d)", int(o))
}
