package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

// A key's conversion counters (store.ConversionKeys' Prefix and App) are one
// hash, s (sends) and v (codes verified), that expires Window after the
// send that created it. A prefix's block is a plain key with the block's
// TTL. Each method is one script: one round trip, atomic.

// conversionSendScript: KEYS = prefix, app, block. ARGV = min sends, max
// ratio, floor, window ms, block ms, exempt (1/0).
// Returns {state, block PTTL ms, prefix s, prefix v, app s, app v} where
// state is 0 (counted), 1 (blocked before), 2 (blocked now).
//
// The rule is store.ConversionRule.Blocks, written again in Lua (doubles,
// the same operations in the same order and the same epsilon, so both
// stores decide alike).
var conversionSendScript = redis.NewScript(`
local exempt = ARGV[6] == '1'
if not exempt then
  local ttl = redis.call('PTTL', KEYS[3])
  if ttl > 0 then
    return {1, ttl, 0, 0, 0, 0}
  end
end
local p = redis.call('HMGET', KEYS[1], 's', 'v')
local a = redis.call('HMGET', KEYS[2], 's', 'v')
local ps, pv = tonumber(p[1] or '0'), tonumber(p[2] or '0')
local as, av = tonumber(a[1] or '0'), tonumber(a[2] or '0')
local min, ratio, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if not exempt and ps >= min and ps > 0 then
  local norm = floor
  if as > 0 and av / as > norm then
    norm = av / as
  end
  if pv < ratio * norm * ps - 1e-9 then
    redis.call('DEL', KEYS[1])
    redis.call('SET', KEYS[3], 1, 'PX', ARGV[5])
    return {2, tonumber(ARGV[5]), ps, pv, as, av}
  end
end
for i = 1, 2 do
  if redis.call('HINCRBY', KEYS[i], 's', 1) == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[4])
  end
end
return {0, 0, ps, pv, as, av}
`)

// conversionUnsendScript: KEYS = prefix, app. Takes one send back from each
// hash that is still there.
var conversionUnsendScript = redis.NewScript(`
for i = 1, 2 do
  local s = tonumber(redis.call('HGET', KEYS[i], 's') or '0')
  if s > 0 then
    redis.call('HINCRBY', KEYS[i], 's', -1)
  end
end
return 0
`)

// conversionVerifiedScript: KEYS = prefix, app. Counts a verified code in
// each hash that is still there (a hash is only made by a send, so this
// never starts a window), at most as many as its sends.
var conversionVerifiedScript = redis.NewScript(`
for i = 1, 2 do
  local c = redis.call('HMGET', KEYS[i], 's', 'v')
  local s, v = tonumber(c[1] or '0'), tonumber(c[2] or '0')
  if s > 0 and v < s then
    redis.call('HINCRBY', KEYS[i], 'v', 1)
  end
end
return 0
`)

// ConversionSend implements store.Conversion.
func (s *Store) ConversionSend(ctx context.Context, req store.ConversionSendRequest) (store.ConversionSendResult, error) {
	if err := ctx.Err(); err != nil {
		return store.ConversionSendResult{}, fmt.Errorf("redisstore: conversion send: %w", err)
	}
	if err := store.ValidateConversion(req); err != nil {
		return store.ConversionSendResult{}, err
	}
	r := req.Rule
	exempt := 0
	if req.Exempt {
		exempt = 1
	}
	keys := []string{s.prefix + req.Keys.Prefix, s.prefix + req.Keys.App, s.prefix + req.Keys.Block}
	out, err := conversionSendScript.Run(ctx, s.rdb, keys,
		r.MinSends, strconv.FormatFloat(r.MaxRatio, 'g', -1, 64), strconv.FormatFloat(r.Floor, 'g', -1, 64),
		ms(r.Window), ms(r.BlockFor), exempt).Int64Slice()
	if err != nil {
		return store.ConversionSendResult{}, unavailable("conversion send", err)
	}
	if len(out) != 6 || out[0] < 0 || out[0] > 2 {
		return store.ConversionSendResult{}, unavailable("conversion send", fmt.Errorf("unexpected script reply %v", out))
	}
	return store.ConversionSendResult{
		Blocked: out[0] != 0, NewBlock: out[0] == 2, RetryAfter: time.Duration(out[1]) * time.Millisecond,
		PrefixSent: out[2], PrefixVerified: out[3], AppSent: out[4], AppVerified: out[5],
	}, nil
}

// ConversionUnsend implements store.Conversion.
func (s *Store) ConversionUnsend(ctx context.Context, k store.ConversionKeys) error {
	return s.conversionCall(ctx, "conversion unsend", conversionUnsendScript, k)
}

// ConversionVerified implements store.Conversion.
func (s *Store) ConversionVerified(ctx context.Context, k store.ConversionKeys) error {
	return s.conversionCall(ctx, "conversion verified", conversionVerifiedScript, k)
}

func (s *Store) conversionCall(ctx context.Context, op string, script *redis.Script, k store.ConversionKeys) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	if err := store.ValidateConversionKeys(k); err != nil {
		return err
	}
	if err := script.Run(ctx, s.rdb, []string{s.prefix + k.Prefix, s.prefix + k.App}).Err(); err != nil {
		return unavailable(op, err)
	}
	return nil
}
