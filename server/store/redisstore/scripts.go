package redisstore

import "github.com/redis/go-redis/v9"

// Each Store method is one of these scripts, run with EVALSHA (EVAL when
// the server does not have it cached, e.g. after a restart), so that each
// decision is one round trip and atomic: Redis runs a script start to end
// with no other command in between, on every instance's behalf at once.
//
// A limit is a counter key that expires Window after its first event. A
// count above Max means the limit has refused and applied its Block, so that
// later refusals leave the block's end where it is. A code is a hash:
// h (the HMAC), a (attempts made), m (MaxAttempts), r (the reservation).

// reserveScript: KEYS = limit keys..., then the code key when there is one.
// ARGV = #limits, has-code (1/0), then Max, Window ms, Block ms per limit,
// then hash, TTL ms, MaxAttempts, reservation.
// Returns {1} when allowed, {0, refused index (0-based), PTTL ms} when not.
var reserveScript = redis.NewScript(`
local n = tonumber(ARGV[1])
local refused, retry = -1, 0
local counts = {}
for i = 1, n do
  local max, block = tonumber(ARGV[3*i]), tonumber(ARGV[3*i+2])
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  counts[i] = count
  if count >= max then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      -- A counter without a TTL is never written by this script; give it
      -- one rather than refuse forever.
      ttl = tonumber(ARGV[3*i+1])
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
    if block > 0 and count == max then
      redis.call('INCR', KEYS[i])
      if block > ttl then
        redis.call('PEXPIRE', KEYS[i], block)
        ttl = block
      end
    end
    if refused < 0 then
      refused, retry = i - 1, ttl
    end
  end
end
if refused >= 0 then
  return {0, refused, retry}
end
-- Nothing was written above (a write means a refusal), so the counts read
-- are current. A counter read as absent starts its window with one SET;
-- NX, because the same key may come twice in one call. Otherwise, and for
-- a counter this script did not write, INCR as before.
for i = 1, n do
  local k, w = KEYS[i], ARGV[3*i+1]
  if counts[i] ~= 0 or not redis.call('SET', k, 1, 'PX', w, 'NX') then
    if redis.call('INCR', k) == 1 then
      redis.call('PEXPIRE', k, w)
    end
  end
end
if ARGV[2] == '1' then
  local k, a = KEYS[n+1], 3*n+3
  redis.call('HSET', k, 'h', ARGV[a], 'a', 0, 'm', ARGV[a+2], 'r', ARGV[a+3])
  redis.call('PEXPIRE', k, ARGV[a+1])
end
return {1}
`)

// releaseScript: KEYS as reserveScript's. ARGV = #limits, has-code (1/0),
// Max per limit, then the reservation. A blocked limit keeps its block; a
// count given back to zero deletes the counter, so the next send starts a
// fresh window.
var releaseScript = redis.NewScript(`
local n = tonumber(ARGV[1])
for i = 1, n do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count > 1 and count <= tonumber(ARGV[2+i]) then
    redis.call('DECR', KEYS[i])
  elseif count == 1 then
    redis.call('DEL', KEYS[i])
  end
end
if ARGV[2] == '1' and redis.call('HGET', KEYS[n+1], 'r') == ARGV[n+3] then
  redis.call('DEL', KEYS[n+1])
end
return 1
`)

// verifyScript: KEYS = {code key}, ARGV = {hash}. Returns 1 OK, 2 wrong,
// 3 not found, 4 too many attempts.
//
// The attempt is counted before the compare. The compare is Lua's string
// equality, not constant-time; that is acceptable because both sides are
// HMACs under a key the guesser does not know, so timing reveals nothing
// they can steer. A dead code is kept until it expires, so that guesses keep
// getting "too many attempts" rather than "not found".
var verifyScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'h', 'a', 'm')
if not v[1] then
  return 3
end
if tonumber(v[2]) >= tonumber(v[3]) then
  return 4
end
redis.call('HINCRBY', KEYS[1], 'a', 1)
if v[1] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 2
`)
