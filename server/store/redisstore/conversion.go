package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

// A key's conversion counters (store.ConversionKeys' Prefix and App) are one
// hash, s (sends) and v (codes verified), that expires Window after the
// send that created it. A prefix's block is a plain key with the block's
// TTL. Each method is one script: one round trip, atomic, except on a Redis
// Cluster when the application's hash is in another slot than the prefix's
// keys (the sender tags them by prefix and by application): see
// conversionSendSteps.

// conversionSendScript: KEYS = prefix, block, and app unless the app's
// counts are given. ARGV = min sends, max ratio, floor, window ms, block ms,
// exempt (1/0), then, without the app key, the app's sends and verified.
// Returns {state, block PTTL ms, prefix s, prefix v, app s, app v} where
// state is 0 (counted), 1 (blocked before), 2 (blocked now).
//
// The rule is store.ConversionRule.Blocks, written again in Lua (doubles,
// the same operations in the same order and the same epsilon, so both
// stores decide alike).
var conversionSendScript = redis.NewScript(`
local exempt = ARGV[6] == '1'
if not exempt then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then
    return {1, ttl, 0, 0, 0, 0}
  end
end
local p = redis.call('HMGET', KEYS[1], 's', 'v')
local as, av
if KEYS[3] then
  local a = redis.call('HMGET', KEYS[3], 's', 'v')
  as, av = tonumber(a[1] or '0'), tonumber(a[2] or '0')
else
  as, av = tonumber(ARGV[7]), tonumber(ARGV[8])
end
local ps, pv = tonumber(p[1] or '0'), tonumber(p[2] or '0')
local min, ratio, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if not exempt and ps >= min and ps > 0 then
  local norm = floor
  if as > 0 and av / as > norm then
    norm = av / as
  end
  if pv < ratio * norm * ps - 1e-9 then
    redis.call('DEL', KEYS[1])
    redis.call('SET', KEYS[2], 1, 'PX', ARGV[5])
    return {2, tonumber(ARGV[5]), ps, pv, as, av}
  end
end
for _, k in ipairs({KEYS[1], KEYS[3]}) do
  if redis.call('HINCRBY', k, 's', 1) == 1 then
    redis.call('PEXPIRE', k, ARGV[4])
  end
end
return {0, 0, ps, pv, as, av}
`)

// conversionCountScript: KEYS = the app's hash. ARGV = window ms. Counts a
// send (the cluster path's half of conversionSendScript's count).
var conversionCountScript = redis.NewScript(`
if redis.call('HINCRBY', KEYS[1], 's', 1) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
`)

// conversionUnsendScript: KEYS = the hashes (prefix, app; or one). Takes one
// send back from each hash that is still there.
var conversionUnsendScript = redis.NewScript(`
for i = 1, #KEYS do
  local s = tonumber(redis.call('HGET', KEYS[i], 's') or '0')
  if s > 0 then
    redis.call('HINCRBY', KEYS[i], 's', -1)
  end
end
return 0
`)

// conversionVerifiedScript: KEYS = the hashes (prefix, app; or one). Counts
// a verified code in each hash that is still there (a hash is only made by
// a send, so this never starts a window), at most as many as its sends.
var conversionVerifiedScript = redis.NewScript(`
for i = 1, #KEYS do
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
	keys := []string{s.prefix + req.Keys.Prefix, s.prefix + req.Keys.Block, s.prefix + req.Keys.App}
	args := []any{r.MinSends, strconv.FormatFloat(r.MaxRatio, 'g', -1, 64), strconv.FormatFloat(r.Floor, 'g', -1, 64),
		ms(r.Window), ms(r.BlockFor), exempt}
	if s.cluster && !sameTag(keys) {
		return s.conversionSendSteps(ctx, req, keys, args)
	}
	out, err := conversionSendScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	return conversionResult(out, err)
}

func conversionResult(out []int64, err error) (store.ConversionSendResult, error) {
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

// conversionSendSteps is ConversionSend on a cluster whose app hash is in
// another slot than the prefix's keys (which must share one: a block and
// its counts go together). Step 1 reads the app's counts; step 2 runs the
// rule on the prefix with them (atomic on the prefix: its counts and block
// are exact) and, in the same pipeline, counts the send in the app's hash,
// which step 3 gives back when the prefix was blocked. The app's counts are
// the norm the prefix is compared with, a ratio over the window: read a
// moment before the decision, they are as good as read with it. Counted: 2
// round trips; blocked: 3.
func (s *Store) conversionSendSteps(ctx context.Context, req store.ConversionSendRequest, keys []string, args []any) (store.ConversionSendResult, error) {
	if store.HashTag(keys[0]) != store.HashTag(keys[1]) {
		return store.ConversionSendResult{}, fmt.Errorf("redisstore: %w: conversion prefix and block keys must share a hash tag", store.ErrInvalid)
	}
	app := keys[2]
	counts, err := s.rdb.HMGet(ctx, app, "s", "v").Result()
	if err != nil {
		return store.ConversionSendResult{}, unavailable("conversion send", err)
	}
	appArgs := make([]any, 0, len(args)+2)
	appArgs = append(append(appArgs, args...), count(counts[0]), count(counts[1]))
	cmds := s.runAll(ctx, []scriptCall{
		{conversionSendScript, keys[:2], appArgs},
		{conversionCountScript, []string{app}, []any{ms(req.Rule.Window)}},
	})
	res, err := conversionResult(cmds[0].Int64Slice())
	if cmds[1].Err() == nil && (err != nil || res.Blocked) {
		// Not sent: the app's count goes back (a failure to give it
		// back only lowers the app's conversion, the norm, a little).
		_ = conversionUnsendScript.Run(context.WithoutCancel(ctx), s.rdb, []string{app}).Err()
	}
	if err == nil && cmds[1].Err() != nil {
		err = unavailable("conversion send", cmds[1].Err())
	}
	return res, err
}

// count reads a hash field of HMGET: 0 when absent.
func count(v any) int64 {
	n, _ := strconv.ParseInt(str(v), 10, 64)
	return n
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
	keys := []string{s.prefix + k.Prefix, s.prefix + k.App}
	if !s.cluster || sameTag(keys) {
		if err := script.Run(ctx, s.rdb, keys).Err(); err != nil {
			return unavailable(op, err)
		}
		return nil
	}
	// Each hash on its own: the script's steps are per hash anyway.
	cmds := s.runAll(ctx, []scriptCall{{script, keys[:1], nil}, {script, keys[1:], nil}})
	if err := errors.Join(cmds[0].Err(), cmds[1].Err()); err != nil {
		return unavailable(op, err)
	}
	return nil
}
