package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

// Each Store method is one of these scripts, run with EVALSHA (EVAL when
// the server does not have it cached, e.g. after a restart), so that each
// decision is one round trip and atomic: Redis runs a script start to end
// with no other command in between, on every instance's behalf at once.
//
// A limit is a counter key that expires Window after its first event. A
// count above Max means the limit has refused and applied its Block, so that
// later refusals leave the block's end where it is. A code is a hash:
// h (the HMAC), m (MaxAttempts), r (the reservation), and s:<source> (the
// wrong attempts of one source, see verifyScript).

// reserveScript: KEYS = limit keys..., then the code key when there is one.
// ARGV = #limits, has-code (1/0), then Max, Window ms, Block ms per limit,
// then hash, TTL ms, MaxAttempts, reservation.
// Returns {1} when allowed, {0, refused index (0-based), PTTL ms} when not.
var reserveScript = redis.NewScript(`
local n = tonumber(ARGV[1])
local refused, retry = -1, 0
-- One MGET reads every counter: a call less per limit than a GET each.
local counts = {}
if n > 0 then
  counts = redis.call('MGET', unpack(KEYS, 1, n))
end
for i = 1, n do
  local max, block = tonumber(ARGV[3*i]), tonumber(ARGV[3*i+2])
  local count = tonumber(counts[i] or '0')
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
  -- A fresh hash: the replaced code's per-source wrong counts go with it.
  redis.call('DEL', k)
  redis.call('HSET', k, 'h', ARGV[a], 'm', ARGV[a+2], 'r', ARGV[a+3])
  redis.call('PEXPIRE', k, ARGV[a+1])
end
return {1}
`)

// releaseScript: KEYS = limit keys..., then the code key when there is one,
// then a marker key in the same slot (releaseMarker). ARGV = #limits,
// has-code (1/0), Max per limit, then the reservation and the marker's TTL
// ms. A blocked limit keeps its block; a count given back to zero deletes
// the counter, so the next send starts a fresh window.
//
// The marker makes a give-back happen once per call: go-redis retransmits
// a pipeline (and the autopipeliner a batch) after a dropped connection,
// and a script that ran before the drop would otherwise give the counts
// back twice, making room for one send more than Max. A retransmitted
// take only over-counts, so only this script needs the marker.
var releaseScript = redis.NewScript(`
local n = tonumber(ARGV[1])
if not redis.call('SET', KEYS[#KEYS], 1, 'PX', ARGV[n+4], 'NX') then
  return 0
end
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

// releaseMarkerTTL is how long a give-back's marker lasts: longer than any
// retransmission (timeouts of a second, a retry or two), short enough that
// markers add little to Redis's memory (one small key per give-back).
const releaseMarkerTTL = time.Minute

// releaseMarker is the marker key of the give-back id on the keys whose
// first is first: under first's hash tag, so in its slot.
func (s *Store) releaseMarker(first, id string) string {
	return s.prefix + "{" + store.HashTag(first) + "}:rel:" + id
}

// verifyScript: KEYS = limit keys..., then the code key. ARGV = #limits,
// then Max, Window ms, any-failure (1/0) per limit, then the hash, #sources
// and the sources. Returns {0, refused index (0-based), PTTL ms} when a
// limit is full (nothing compared or counted), else {outcome}: 1 OK,
// 2 wrong, 3 not found, 4 too many attempts (dead for this caller).
//
// A source's wrong guesses are the code hash's field "s:" .. source, so
// they go with the code: a new code (which reserveScript writes on a fresh
// hash) starts them at zero. The compare is Lua's string equality, not
// constant-time; that is acceptable because both sides are HMACs under a
// key the guesser does not know, so timing reveals nothing they can steer.
// A code dead for a caller is kept until it expires, so that this caller
// keeps getting "too many attempts" rather than "not found".
var verifyScript = redis.NewScript(`
local n = tonumber(ARGV[1])
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[3*i-1]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      ttl = tonumber(ARGV[3*i])
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
    return {0, i - 1, ttl}
  end
end
local code, a = KEYS[n+1], 3*n+2
local ns = tonumber(ARGV[a+1])
local out = 0
local v = redis.call('HMGET', code, 'h', 'm')
if not v[1] then
  out = 3
else
  local m = tonumber(v[2])
  for j = 1, ns do
    if tonumber(redis.call('HGET', code, 's:' .. ARGV[a+1+j]) or '0') >= m then
      out = 4
    end
  end
  if out == 0 then
    if v[1] == ARGV[a] then
      redis.call('DEL', code)
      out = 1
    else
      for j = 1, ns do
        redis.call('HINCRBY', code, 's:' .. ARGV[a+1+j], 1)
      end
      out = 2
    end
  end
end
if out ~= 1 then
  for i = 1, n do
    if out == 2 or ARGV[3*i+1] == '1' then
      if redis.call('INCR', KEYS[i]) == 1 then
        redis.call('PEXPIRE', KEYS[i], ARGV[3*i])
      end
    end
  end
end
return {out}
`)
