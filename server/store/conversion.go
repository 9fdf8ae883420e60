package store

import (
	"context"
	"fmt"
	"math"
	"time"
)

// ConversionKeys name one send's conversion counters: those of its number
// prefix and those of its application (the norm the prefix is compared
// with), each a fixed window of sends and codes verified, and the prefix's
// automatic block. Prefix and Block share a hash tag (the prefix's); App
// may have another (the application's), so that on a Redis Cluster the
// prefixes' keys spread over the slots. Keys carry the prefix only as a
// keyed id, never a number.
type ConversionKeys struct {
	Prefix string
	App    string
	Block  string
}

// ConversionRule is the learning pumping defence's rule: a prefix with at
// least MinSends sends in its window whose conversion (codes verified / codes
// sent) is below MaxRatio × the norm is blocked for BlockFor. The norm is
// the application's conversion in its own window, but never less than Floor,
// so that traffic that drags the whole application's conversion down (a
// pumping attack bigger than the honest traffic) cannot lower the bar with it.
type ConversionRule struct {
	MinSends int64
	MaxRatio float64
	Floor    float64
	// Window is how long a prefix's and an application's counters last
	// from their first send (a fixed window, as a Limit's).
	Window   time.Duration
	BlockFor time.Duration
}

// ConversionSendRequest is one send's conversion step, made after Reserve
// allowed the send and before the SMS goes out.
type ConversionSendRequest struct {
	Keys ConversionKeys
	Rule ConversionRule
	// Exempt counts the send but never blocks the prefix (an allow-listed
	// prefix: its sends still count towards the application's norm).
	Exempt bool
}

// ConversionSendResult says how the conversion step went.
type ConversionSendResult struct {
	// Blocked: the prefix is blocked (before this call, or by it: see
	// NewBlock) and nothing was counted; RetryAfter is when the block ends.
	Blocked    bool
	NewBlock   bool
	RetryAfter time.Duration
	// The counts the decision read, before this send: the prefix's and
	// the application's sends and codes verified in their windows.
	PrefixSent, PrefixVerified, AppSent, AppVerified int64
}

// Conversion is the part of a Store that counts conversion for the learning
// pumping defence. Every method is one atomic step; their keys expire with
// the rule's window (a block with BlockFor), so what they hold is bounded
// by the live prefixes.
type Conversion interface {
	// ConversionSend refuses the send when the prefix is blocked; else it
	// applies the rule to the prefix's counts and, when the prefix's
	// conversion is too low, blocks it (and starts its counters afresh,
	// so that the prefix has a clean window once the block ends) and
	// refuses; else it counts the send against the prefix and the app.
	ConversionSend(ctx context.Context, req ConversionSendRequest) (ConversionSendResult, error)
	// ConversionUnsend gives back a send that ConversionSend counted but
	// whose SMS no provider accepted, so that a provider outage does not
	// look like codes nobody verified.
	ConversionUnsend(ctx context.Context, keys ConversionKeys) error
	// ConversionVerified counts a code verified against the prefix and
	// the application, in the windows that counted its send; a window
	// that has ended (or never began) is not started by a verification.
	ConversionVerified(ctx context.Context, keys ConversionKeys) error
}

// Blocks reports whether the rule blocks a prefix with these counts
// (before the send being decided): the one formula both stores use, so
// that they cannot disagree.
func (r ConversionRule) Blocks(prefixSent, prefixVerified, appSent, appVerified int64) bool {
	if prefixSent < r.MinSends || prefixSent <= 0 {
		return false
	}
	norm := r.Floor
	if appSent > 0 {
		norm = math.Max(norm, float64(appVerified)/float64(appSent))
	}
	// The bar is a count of verified codes; the epsilon keeps a prefix
	// exactly at it (0.2 × 0.8 × 50 = 8.000000000000002 in doubles) from
	// being blocked by rounding.
	return float64(prefixVerified) < r.MaxRatio*norm*float64(prefixSent)-conversionEpsilon
}

// conversionEpsilon is far below one verified code and far above the
// rounding error of the bar's two products.
const conversionEpsilon = 1e-9

// ValidateConversion checks a conversion request: keys set, a rule that can
// be applied (windows of at least 1 ms, ratios in [0, 1]).
func ValidateConversion(req ConversionSendRequest) error {
	if err := ValidateConversionKeys(req.Keys); err != nil {
		return err
	}
	r := req.Rule
	if r.MinSends < 1 || r.Window < time.Millisecond || r.BlockFor < time.Millisecond ||
		!(r.MaxRatio >= 0 && r.MaxRatio <= 1) || !(r.Floor >= 0 && r.Floor <= 1) {
		return fmt.Errorf("%w: conversion rule %+v: min sends >= 1, windows >= 1ms, ratios in [0, 1]", ErrInvalid, r)
	}
	return nil
}

// ValidateConversionKeys checks that every key is set and that the keys
// are distinct.
func ValidateConversionKeys(k ConversionKeys) error {
	if k.Prefix == "" || k.App == "" || k.Block == "" || k.Prefix == k.App || k.Prefix == k.Block || k.App == k.Block {
		return fmt.Errorf("%w: conversion keys must be set and distinct", ErrInvalid)
	}
	return nil
}
