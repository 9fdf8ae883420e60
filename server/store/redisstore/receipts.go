package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

// The deliveries (store.Deliveries) are hashes under
// Prefix+"{dlr:"+shard+"}:"+len(provider)+":"+provider+":"+messageID, each
// with the record's TTL, and per shard one sorted set
// Prefix+"{dlr:"+shard+"}:waiting" of the shard's records still accepted,
// scored by the end of their wait (unix ms). A record's shard is a hash of
// its provider and message id (deliveryShards of them), and a record shares
// its shard's hash tag, so each script's keys are in one slot, and on a
// Redis Cluster the receipts of many sends spread over the masters rather
// than all landing on the one that held a single {dlr} set. Each set is
// bounded: a member leaves it when its record is settled or its wait ends
// (ExpireDeliveries), and the set's own TTL is renewed to the longest
// record TTL on each TrackDelivery, so that with no traffic it goes with
// the last record.
//
// Hash fields: p provider, m message id, c client id, s scenario, cc
// calling code, at sent at (unix ms), st status, sat settled at (unix ms).

// deliveryShards is how many waiting sets the deliveries are spread over:
// enough that every master of a cluster of a few gets several.
const deliveryShards = 16

// trackScript: KEYS = record, waiting set. ARGV = ttl ms, wait end ms, p,
// m, c, s, cc, at.
var trackScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'p', ARGV[3], 'm', ARGV[4], 'c', ARGV[5], 's', ARGV[6], 'cc', ARGV[7], 'at', ARGV[8], 'st', 'accepted')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], KEYS[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return 1
`)

// settleScript: KEYS = record, waiting set. ARGV = status, settled at ms.
// Returns {outcome} for an unknown id, else {outcome, p, m, c, s, cc, at,
// st, sat}: outcome 1 settled, 2 duplicate, 3 late.
var settleScript = redis.NewScript(`
local rec = redis.call('HMGET', KEYS[1], 'p', 'm', 'c', 's', 'cc', 'at', 'st', 'sat')
if not rec[7] then return {0} end
local outcome = 3
if rec[7] == 'accepted' then
  redis.call('HSET', KEYS[1], 'st', ARGV[1], 'sat', ARGV[2])
  redis.call('ZREM', KEYS[2], KEYS[1])
  rec[7], rec[8], outcome = ARGV[1], ARGV[2], 1
elseif rec[7] == ARGV[1] then
  outcome = 2
end
return {outcome, rec[1], rec[2], rec[3], rec[4], rec[5], rec[6], rec[7], rec[8] or ''}
`)

// expireScript: KEYS = waiting set. ARGV = settled at ms, then the set's
// members (record keys) that ExpireDeliveries found due. Settles as unknown
// each one still in the set and still accepted (a receipt or another sweep
// may have come first) and returns {p, m, c, s, cc, at} of each, flattened.
var expireScript = redis.NewScript(`
local out = {}
for i = 2, #ARGV do
  local k = ARGV[i]
  if redis.call('ZREM', KEYS[1], k) == 1 then
    local rec = redis.call('HMGET', k, 'p', 'm', 'c', 's', 'cc', 'at', 'st')
    if rec[7] == 'accepted' then
      redis.call('HSET', k, 'st', 'unknown', 'sat', ARGV[1])
      for j = 1, 6 do out[#out+1] = rec[j] end
    end
  end
end
return out
`)

// deliveryShard is the shard of a delivery: FNV-1a of its provider and id.
func deliveryShard(provider, messageID string) int {
	h := uint32(2166136261)
	for _, part := range [...]string{provider, "\x00", messageID} {
		for i := 0; i < len(part); i++ {
			h ^= uint32(part[i])
			h *= 16777619
		}
	}
	return int(h % deliveryShards)
}

// deliveryKeys are the scripts' KEYS for one delivery: its record and its
// shard's waiting set.
func (s *Store) deliveryKeys(provider, messageID string) []string {
	shard := deliveryShard(provider, messageID)
	record := s.prefix + "{dlr:" + strconv.Itoa(shard) + "}:" +
		strconv.Itoa(len(provider)) + ":" + provider + ":" + messageID
	return []string{record, s.waitingKey(shard)}
}

func (s *Store) waitingKey(shard int) string {
	return s.prefix + "{dlr:" + strconv.Itoa(shard) + "}:waiting"
}

// TrackDelivery implements store.Deliveries.
func (s *Store) TrackDelivery(ctx context.Context, d store.Delivery, ttl, wait time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: track delivery: %w", err)
	}
	if err := store.ValidateDelivery(d, ttl, wait); err != nil {
		return err
	}
	keys := s.deliveryKeys(d.Provider, d.MessageID)
	err := trackScript.Run(ctx, s.rdb, keys, ms(ttl), d.SentAt.Add(wait).UnixMilli(),
		d.Provider, d.MessageID, d.ClientID, d.Scenario, d.CallingCode, d.SentAt.UnixMilli()).Err()
	if err != nil {
		return unavailable("track delivery", err)
	}
	return nil
}

// SettleDelivery implements store.Deliveries.
func (s *Store) SettleDelivery(ctx context.Context, provider, messageID string, status store.DeliveryStatus, at time.Time) (store.Delivery, store.SettleOutcome, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, 0, fmt.Errorf("redisstore: settle delivery: %w", err)
	}
	if err := store.ValidateSettle(provider, messageID, status); err != nil {
		return store.Delivery{}, 0, err
	}
	keys := s.deliveryKeys(provider, messageID)
	r, err := settleScript.Run(ctx, s.rdb, keys, string(status), at.UnixMilli()).Slice()
	if err != nil {
		return store.Delivery{}, 0, unavailable("settle delivery", err)
	}
	outcome, _ := r[0].(int64)
	if outcome == 0 || len(r) != 9 {
		return store.Delivery{}, store.SettleUnknownID, nil
	}
	d := deliveryOf(r[1:7])
	d.Status = store.DeliveryStatus(str(r[7]))
	if sat, err := strconv.ParseInt(str(r[8]), 10, 64); err == nil {
		d.SettledAt = time.UnixMilli(sat)
	}
	var o store.SettleOutcome // the zero outcome for a reply outside settleScript's
	if outcome >= 1 && outcome < int64(len(settleOutcomes)) {
		o = settleOutcomes[outcome]
	}
	return d, o, nil
}

// settleOutcomes are settleScript's outcomes by number.
var settleOutcomes = [...]store.SettleOutcome{1: store.Settled, 2: store.SettleDuplicate, 3: store.SettleLate}

// ExpireDeliveries implements store.Deliveries, in two round trips: one
// pipeline reads the due members of every shard's set (ZRANGEBYSCORE, up
// to max each), the earliest max of them are chosen, and a second pipeline
// settles them, one script per shard, each checking again that its members
// are still waiting (so concurrent sweeps and receipts settle a record
// once). With nothing due, the second is skipped.
func (s *Store) ExpireDeliveries(ctx context.Context, now time.Time, max int) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: expire deliveries: %w", err)
	}
	if max <= 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	reads := make([]*redis.ZSliceCmd, deliveryShards)
	for i := range reads {
		reads[i] = pipe.ZRangeByScoreWithScores(ctx, s.waitingKey(i), &redis.ZRangeBy{
			Min: "-inf", Max: "(" + strconv.FormatInt(now.UnixMilli(), 10), Count: int64(max)})
	}
	_, _ = pipe.Exec(ctx) // each command keeps its own error
	type due struct {
		shard  int
		score  float64
		member string
	}
	var all []due
	for i, cmd := range reads {
		zs, err := cmd.Result()
		if err != nil {
			return nil, unavailable("expire deliveries", err)
		}
		for _, z := range zs {
			m, _ := z.Member.(string)
			all = append(all, due{i, z.Score, m})
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	slices.SortFunc(all, func(a, b due) int { return cmp.Compare(a.score, b.score) })
	all = all[:min(len(all), max)]
	args := make([][]any, deliveryShards)
	for _, d := range all {
		if args[d.shard] == nil {
			args[d.shard] = []any{now.UnixMilli()}
		}
		args[d.shard] = append(args[d.shard], d.member)
	}
	var calls []scriptCall
	for i, a := range args {
		if a != nil {
			calls = append(calls, scriptCall{expireScript, []string{s.waitingKey(i)}, a})
		}
	}
	var out []store.Delivery
	var errs []error
	for _, cmd := range s.runAll(ctx, calls) {
		r, err := cmd.Slice()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i := 0; i+6 <= len(r); i += 6 {
			d := deliveryOf(r[i : i+6])
			d.Status, d.SettledAt = store.DeliveryUnknown, time.UnixMilli(now.UnixMilli())
			out = append(out, d)
		}
	}
	if err := errors.Join(errs...); err != nil {
		// Those settled by the shards that answered are returned too:
		// they are unknown now, and no later sweep will return them.
		return out, unavailable("expire deliveries", err)
	}
	return out, nil
}

// deliveryOf reads p, m, c, s, cc, at.
func deliveryOf(f []any) store.Delivery {
	d := store.Delivery{Provider: str(f[0]), MessageID: str(f[1]), ClientID: str(f[2]),
		Scenario: str(f[3]), CallingCode: str(f[4])}
	if at, err := strconv.ParseInt(str(f[5]), 10, 64); err == nil {
		d.SentAt = time.UnixMilli(at)
	}
	return d
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
