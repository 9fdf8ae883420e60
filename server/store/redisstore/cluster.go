package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

// The Redis Cluster path. The sender gives every key the hash tag of the
// entity it counts (the number, the device, the client IP, the prefix, the
// application), so that one application's keys spread over the cluster's
// slots instead of all landing on one master. A decision whose keys do not
// share one tag cannot be one script (a script's keys must be in one slot),
// so on a *redis.ClusterClient it is made in steps, each step one pipeline
// (go-redis splits a pipeline per node and sends to the nodes in parallel:
// one round trip per step, whatever the number of slots):
//
//   - Reserve: step 1 takes every limit, one script per hash tag (the
//     reserve script without a code: it refuses when a limit of its tag is
//     full, applying Block, and else counts all of them, atomically per
//     tag). When every tag took, step 2 stores the code (its own script,
//     run only now, so that a refused send never replaces a pending code).
//     When a tag refused, step 2 gives back what the other tags took
//     (the release script), and the code is not touched. Allowed: 2 round
//     trips; refused: 1 or 2.
//   - Release: one step, the release script per tag (the code with its
//     tag's limits).
//   - Verify: step 1 takes every limit as if the guess were wrong, one
//     script per tag, refusing when a limit is full; step 2 compares the
//     code (the verify script without limits: per-source attempts stay
//     atomic with the compare); step 3 gives back the counts the outcome
//     does not keep (all for a match; the wrong-only ones for no code or a
//     dead code; none for a wrong code). A refusal gives back in step 2.
//     Wrong: 2 round trips; match: 3.
//
// What is not atomic, and why it is still safe: between the steps another
// request sees a limit counted by a request that may yet give it back. So a
// concurrent request may be refused that would have fitted (an over-count,
// for a few milliseconds, or for good when this instance dies between the
// steps), but no limit ever lets more through than Max: each take is atomic
// on its key, and nothing is sent (Reserve answers Allowed) or compared
// (Verify) until every limit has taken. A lost reply is treated as a take
// (not given back), so failures too can only over-count.
//
// One over-count lasts: a limit with a Block (the pumping prefix) taken to
// exactly Max by a request that another tag then refuses makes a
// concurrent request on that prefix see it full and apply the Block, which
// the give-back leaves in place. So under a race the prefix is blocked at
// its Max-th send instead of the next one: one send early, at a prefix
// that has reached its threshold. Taking Block limits in a step of their
// own would prevent it at a third round trip for every send.
//
// A decision whose keys all share one tag (keys built the old way, or a
// request of one key) takes the single-script path on a cluster as well.

// isCluster reports whether c is a Redis Cluster client, whose scripts must
// keep to one slot.
func isCluster(c redis.UniversalClient) bool {
	_, ok := c.(*redis.ClusterClient)
	return ok
}

// sameTag reports whether every key has one hash tag.
func sameTag(keys []string) bool {
	for _, k := range keys[1:] {
		if store.HashTag(k) != store.HashTag(keys[0]) {
			return false
		}
	}
	return true
}

// byTag groups the indexes of keys by hash tag, in order of first
// appearance, and within a group in order.
func byTag(keys []string) [][]int {
	var groups [][]int
	seen := make(map[string]int, len(keys))
	for i, k := range keys {
		tag := store.HashTag(k)
		g, ok := seen[tag]
		if !ok {
			g = len(groups)
			seen[tag] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// scriptCall is one script to run in a pipeline.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}

// runAll runs calls in one pipeline (EVALSHA), then once more with EVAL
// those that Redis did not have cached (NOSCRIPT: they did not run). It
// returns each call's command, with its own error.
func (s *Store) runAll(ctx context.Context, calls []scriptCall) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	pipe := s.rdb.Pipeline()
	for i, c := range calls {
		cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // each command keeps its own error
	var again []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		pipe := s.rdb.Pipeline()
		for _, i := range again {
			cmds[i] = calls[i].script.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	return cmds
}

// runAllErr is runAll for calls whose replies say nothing but success: the
// errors of every call, joined.
func (s *Store) runAllErr(ctx context.Context, calls []scriptCall) error {
	var errs []error
	for _, cmd := range s.runAll(ctx, calls) {
		errs = append(errs, cmd.Err())
	}
	return errors.Join(errs...)
}

// limitSet is some of a request's limits, by index, for the take and give
// back scripts.
type limitSet struct {
	keys   []string
	max    []int64
	window []time.Duration
	block  []time.Duration
}

// takeOneScript is the reserve script without a code for one limit, in
// fewer commands (INCR first, undone on a refusal), since most tags hold one
// limit: the device's, the address's, the application's daily count, whose
// master every send reaches. KEYS = the limit. ARGV = Max, Window ms,
// Block ms. Returns {1} when counted, {0, 0, PTTL ms} when refused, with
// the reserve script's Block: the refusal that finds the count at Max
// keeps its INCR (Max+1 marks the block) and extends the TTL to Block.
var takeOneScript = redis.NewScript(`
local c = redis.call('INCR', KEYS[1])
if c == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
local max, block = tonumber(ARGV[1]), tonumber(ARGV[3])
if c <= max then
  return {1}
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if block > 0 and c == max + 1 then
  if block > ttl then
    redis.call('PEXPIRE', KEYS[1], block)
    ttl = block
  end
else
  redis.call('DECR', KEYS[1])
end
return {0, 0, ttl}
`)

// take is the reserve script without a code on the limits of group (the
// shorter takeOneScript for one): it refuses when one is full (applying
// Block), else counts every one.
func (ls limitSet) take(group []int) scriptCall {
	if len(group) == 1 {
		i := group[0]
		return scriptCall{takeOneScript, []string{ls.keys[i]}, []any{ls.max[i], ms(ls.window[i]), ms(ls.block[i])}}
	}
	keys := make([]string, 0, len(group))
	args := make([]any, 0, 2+3*len(group))
	args = append(args, len(group), 0)
	for _, i := range group {
		keys = append(keys, ls.keys[i])
		args = append(args, ls.max[i], ms(ls.window[i]), ms(ls.block[i]))
	}
	return scriptCall{reserveScript, keys, args}
}

// giveBack is the release script on the limits of group, and on the code
// key when code is set (deleted only while it holds reservation), once per
// id (the script's marker, see releaseScript).
func (s *Store) giveBack(ls limitSet, group []int, code, id, reservation string) scriptCall {
	keys := make([]string, 0, len(group)+2)
	args := make([]any, 0, 4+len(group))
	hasCode := 0
	if code != "" {
		hasCode = 1
	}
	args = append(args, len(group), hasCode)
	for _, i := range group {
		keys = append(keys, ls.keys[i])
		args = append(args, ls.max[i])
	}
	if code != "" {
		keys = append(keys, code)
	}
	keys = append(keys, s.releaseMarker(keys[0], id))
	return scriptCall{releaseScript, keys, append(args, reservation, ms(releaseMarkerTTL))}
}

func (s *Store) sendLimits(ls []store.Limit) limitSet {
	set := limitSet{keys: make([]string, len(ls)), max: make([]int64, len(ls)),
		window: make([]time.Duration, len(ls)), block: make([]time.Duration, len(ls))}
	for i, l := range ls {
		set.keys[i], set.max[i], set.window[i], set.block[i] = s.prefix+l.Key, l.Max, l.Window, l.Block
	}
	return set
}

func (s *Store) verifyLimits(ls []store.VerifyLimit) limitSet {
	plain := make([]store.Limit, len(ls))
	for i, l := range ls {
		plain[i] = l.Limit
	}
	return s.sendLimits(plain)
}

// refusal is the first refusal among step 1's replies.
type refusal struct {
	index int
	retry time.Duration
}

// takeAll runs step 1 (take, per tag) and returns the groups that took, the
// first refusal (index -1 when none) and an error when a reply was missing
// or malformed. A group whose reply was lost is not in took: it may have
// counted, and is left so (an over-count).
func (s *Store) takeAll(ctx context.Context, ls limitSet, groups [][]int) (took [][]int, first refusal, err error) {
	calls := make([]scriptCall, len(groups))
	for g, group := range groups {
		calls[g] = ls.take(group)
	}
	first.index = -1
	var errs []error
	for g, cmd := range s.runAll(ctx, calls) {
		r, e := cmd.Int64Slice()
		switch {
		case e != nil:
			errs = append(errs, e)
		case len(r) == 1 && r[0] == 1:
			took = append(took, groups[g])
		case len(r) == 3 && r[0] == 0 && r[1] >= 0 && int(r[1]) < len(groups[g]):
			if i := groups[g][r[1]]; first.index < 0 || i < first.index {
				first = refusal{i, time.Duration(r[2]) * time.Millisecond}
			}
		default:
			errs = append(errs, fmt.Errorf("unexpected script reply %v", r))
		}
	}
	return took, first, errors.Join(errs...)
}

// giveBackAll gives back, in one pipeline, the counts of groups, once per
// id, and also runs extra there.
func (s *Store) giveBackAll(ctx context.Context, ls limitSet, groups [][]int, id string, extra ...scriptCall) error {
	if len(groups)+len(extra) == 0 {
		return nil
	}
	calls := make([]scriptCall, 0, len(groups)+len(extra))
	for _, group := range groups {
		calls = append(calls, s.giveBack(ls, group, "", id, ""))
	}
	return s.runAllErr(ctx, append(calls, extra...))
}

// reserveSteps is Reserve on a cluster whose keys span tags.
func (s *Store) reserveSteps(ctx context.Context, req store.SendRequest, reservation string) (store.SendResult, error) {
	ls := s.sendLimits(req.Limits)
	took, first, err := s.takeAll(ctx, ls, byTag(ls.keys))
	if err != nil || first.index >= 0 {
		// Give back what was taken: this send goes nowhere. A give-back
		// that fails leaves an over-count, never an extra send, so a
		// refusal is answered as such.
		backErr := s.giveBackAll(context.WithoutCancel(ctx), ls, took, reservation)
		if err != nil {
			return store.SendResult{}, unavailable("reserve", errors.Join(err, backErr))
		}
		return store.SendResult{Refused: first.index, RetryAfter: first.retry}, nil
	}
	if req.Code.Key != "" {
		args := []any{0, 1, req.Code.Hash, ms(req.Code.TTL), req.Code.MaxAttempts, reservation}
		r, err := reserveScript.Run(ctx, s.rdb, []string{s.prefix + req.Code.Key}, args...).Int64Slice()
		if err == nil && (len(r) != 1 || r[0] != 1) {
			err = fmt.Errorf("unexpected script reply %v", r)
		}
		if err != nil {
			// No code, no send: give the counts back (the code write may
			// have happened; its reservation is never returned, and the
			// give-back deletes it too).
			// The code's give-back has its own marker id: the code shares
			// the number's tag, whose limits are given back under
			// reservation.
			code := s.giveBack(ls, nil, s.prefix+req.Code.Key, reservation+":code", reservation)
			backErr := s.giveBackAll(context.WithoutCancel(ctx), ls, took, reservation, code)
			return store.SendResult{}, unavailable("reserve", errors.Join(backErr, err))
		}
	}
	return store.SendResult{Allowed: true, Reservation: reservation}, nil
}

// releaseSteps is Release on a cluster whose keys span tags: one pipeline,
// the release script per tag, the code with its tag's limits.
func (s *Store) releaseSteps(ctx context.Context, req store.SendRequest, res store.SendResult) error {
	ls := s.sendLimits(req.Limits)
	keys := ls.keys
	if req.Code.Key != "" {
		keys = append(keys[:len(keys):len(keys)], s.prefix+req.Code.Key)
	}
	calls := make([]scriptCall, 0, len(keys))
	for _, group := range byTag(keys) {
		code := ""
		if last := group[len(group)-1]; last == len(req.Limits) {
			group, code = group[:len(group)-1], keys[last]
		}
		calls = append(calls, s.giveBack(ls, group, code, res.Reservation, res.Reservation))
	}
	if err := s.runAllErr(ctx, calls); err != nil {
		return unavailable("release", err)
	}
	return nil
}

// verifySteps is Verify on a cluster whose keys span tags.
func (s *Store) verifySteps(ctx context.Context, req store.VerifyRequest, sources []string) (store.VerifyResult, error) {
	ls := s.verifyLimits(req.Limits)
	groups := byTag(ls.keys)
	id := rand.Text() // this call's give-back marker (releaseScript)
	took, first, err := s.takeAll(ctx, ls, groups)
	if err != nil || first.index >= 0 {
		backErr := s.giveBackAll(context.WithoutCancel(ctx), ls, took, id)
		if err != nil {
			return store.VerifyResult{}, unavailable("verify", errors.Join(err, backErr))
		}
		return store.VerifyResult{Outcome: store.VerifyRefused, Refused: first.index, RetryAfter: first.retry}, nil
	}
	// Every limit has counted this attempt as a wrong guess: the compare
	// may go ahead. An error from here on keeps the counts (the compare
	// may have happened): an over-count, never an uncounted guess.
	args := make([]any, 0, 3+len(sources))
	args = append(args, 0, req.Hash, len(sources))
	for _, src := range sources {
		args = append(args, src)
	}
	r, err := verifyScript.Run(ctx, s.rdb, []string{s.prefix + req.Key}, args...).Int64Slice()
	if err != nil {
		return store.VerifyResult{}, unavailable("verify", err)
	}
	out, ok := verifyOutcome(r)
	if !ok {
		return store.VerifyResult{}, unavailable("verify", fmt.Errorf("unexpected script reply %v", r))
	}
	if out != store.VerifyWrong {
		// Give back what this outcome does not count: every limit for a
		// match, the wrong-only ones for the other failures.
		var back [][]int
		for _, group := range groups {
			var g []int
			for _, i := range group {
				if out == store.VerifyOK || !req.Limits[i].AnyFailure {
					g = append(g, i)
				}
			}
			if len(g) > 0 {
				back = append(back, g)
			}
		}
		// A give-back that fails leaves an over-count; the outcome
		// stands (a match has consumed the code).
		_ = s.giveBackAll(context.WithoutCancel(ctx), ls, back, id)
	}
	return store.VerifyResult{Outcome: out, Refused: -1}, nil
}
