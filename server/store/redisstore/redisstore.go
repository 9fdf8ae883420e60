// Package redisstore is a store.Store in Redis, shared by every instance of
// the server: limits hold across instances, and Redis's clock alone decides
// expiry, so instances with skewed clocks still agree.
//
// Each method is one command: a Lua script (or one SET) that makes the
// whole decision atomically, and one round trip, which concurrent methods
// share when autopipelined (Config.AutoPipeline, see pipelined). On a Redis
// Cluster, a decision whose keys span hash tags is made in a few pipelined
// steps instead (cluster.go). Every key it writes has a TTL, so Redis's memory
// is bounded by live state. Any failure to reach Redis is returned wrapping
// store.ErrUnavailable, so that callers fail closed. (A context that is
// already done when a method is called returns its own error instead: the
// caller has gone, and Redis was not asked.)
//
// Keys are Config.Prefix followed by the caller's key. The caller's key
// carries the Redis Cluster hash tag, and the prefix has no braces, so the
// tag still picks the slot.
package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

var _ store.Store = (*Store)(nil)

// DefaultPrefix is the key prefix when Config.Prefix is empty.
const DefaultPrefix = "smscode:"

// Config configures a Store.
type Config struct {
	// Prefix is put before every key, to share a Redis with other
	// applications. The default is "smscode:". It must not contain "{" or
	// "}": a brace would change which part of the key is the hash tag.
	Prefix string `yaml:"prefix"`
	// WaitReplicas and WaitTimeout: see Options, whose StoreConfig sets
	// them from store.redis (0 or less: no wait).
	WaitReplicas int           `yaml:"-"`
	WaitTimeout  time.Duration `yaml:"-"`
	// AutoPipeline: see Options.AutoPipeline, which StoreConfig turns into
	// this. It applies to a *redis.Client (url, sentinel_*) only.
	AutoPipeline bool `yaml:"-"`
}

// Store is a store.Store backed by Redis (single node, Sentinel or Cluster).
// It is safe for concurrent use.
type Store struct {
	// rdb is New's client, or its autopipeliner (Config.AutoPipeline).
	rdb    redis.UniversalClient
	prefix string
	wait   waitConfig
	// cluster: rdb is a Redis Cluster client, so a decision whose keys
	// span hash tags is made in steps (cluster.go).
	cluster bool
}

// New returns a Store on client. It panics if client is nil or cfg.Prefix
// has a brace; both are programming errors found at start-up.
func New(client redis.UniversalClient, cfg Config) *Store {
	if client == nil {
		panic("redisstore: nil client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		panic(fmt.Sprintf("redisstore: prefix %q contains a brace, which would move the hash tag", cfg.Prefix))
	}
	return &Store{rdb: pipelined(client, cfg.AutoPipeline), prefix: cfg.Prefix, wait: newWaitConfig(cfg), cluster: isCluster(client)}
}

// pipelined is what the Store sends its commands through. Without
// autopipelining each command is a round trip of its own: a write and a
// read on a pooled connection, in this process and in Redis, which on
// loopback cost more CPU than the send decision's script itself (issue 14).
// go-redis's blocking autopipeliner queues the commands that concurrent
// requests issue at the same moment and sends them as one pipeline on one
// connection, so N sends waiting together cost one write and one read on
// each side instead of N. Each caller still waits for its own reply, and
// each script is still atomic on its own: a pipeline is not a transaction,
// and the scripts share no state but Redis's. A lone request is flushed at
// once (no coalescing delay). Every command goes this way, Ping included,
// so that /readyz reports the connections the decisions use. The WAIT
// pipeline (wait.go) runs on one pooled connection of the client, as
// before. The autopipeliner is closed with the client. A queued command
// does not heed its caller's context (the autopipeliner runs batches on
// its own): it is bounded by the read and write timeouts (1 s by default)
// instead, which is why those stay short.
func pipelined(client redis.UniversalClient, autoPipeline bool) redis.UniversalClient {
	c, ok := client.(*redis.Client)
	if !autoPipeline || !ok {
		return client
	}
	ap, err := c.AutoPipeline()
	if err != nil {
		// Only an invalid configuration (the default is valid) or a
		// closed client: the client itself then answers or fails closed.
		return client
	}
	return ap
}

// Reserve implements store.Store.
func (s *Store) Reserve(ctx context.Context, req store.SendRequest) (store.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return store.SendResult{}, fmt.Errorf("redisstore: reserve: %w", err)
	}
	if err := store.Validate(req); err != nil {
		return store.SendResult{}, err
	}
	reservation := rand.Text()
	keys := s.keys(req)
	if s.cluster && !sameTag(keys) {
		return s.reserveSteps(ctx, req, reservation)
	}
	args := make([]any, 0, 2+3*len(req.Limits)+4)
	args = append(args, len(req.Limits), hasCode(req))
	for _, l := range req.Limits {
		args = append(args, l.Max, ms(l.Window), ms(l.Block))
	}
	if req.Code.Key != "" {
		args = append(args, req.Code.Hash, ms(req.Code.TTL), req.Code.MaxAttempts, reservation)
	}
	r, err := s.runReserve(ctx, req, reservation, keys, args)
	if err != nil {
		return store.SendResult{}, unavailable("reserve", err)
	}
	switch {
	case len(r) == 1 && r[0] == 1:
		return store.SendResult{Allowed: true, Reservation: reservation}, nil
	case len(r) == 3 && r[0] == 0:
		return store.SendResult{Refused: int(r[1]), RetryAfter: time.Duration(r[2]) * time.Millisecond}, nil
	}
	return store.SendResult{}, unavailable("reserve", fmt.Errorf("unexpected script reply %v", r))
}

// Release implements store.Store. Call it once per allowed Reserve: a
// second call for one reservation within a minute gives nothing back (that
// is how a retransmitted script is told apart, see releaseScript). A limit
// that has since refused and blocked keeps its block.
func (s *Store) Release(ctx context.Context, req store.SendRequest, res store.SendResult) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	if !res.Allowed {
		return nil // a refused Reserve took nothing
	}
	if err := store.Validate(req); err != nil {
		return err
	}
	keys := s.keys(req)
	if s.cluster && !sameTag(keys) {
		return s.releaseSteps(ctx, req, res)
	}
	args := make([]any, 0, 3+len(req.Limits))
	args = append(args, len(req.Limits), hasCode(req))
	for _, l := range req.Limits {
		args = append(args, l.Max)
	}
	args = append(args, res.Reservation, ms(releaseMarkerTTL))
	keys = append(keys, s.releaseMarker(keys[0], res.Reservation))
	if err := releaseScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return unavailable("release", err)
	}
	return nil
}

// Verify implements store.Store.
func (s *Store) Verify(ctx context.Context, req store.VerifyRequest) (store.VerifyResult, error) {
	if err := ctx.Err(); err != nil {
		return store.VerifyResult{}, fmt.Errorf("redisstore: verify: %w", err)
	}
	if err := store.ValidateVerify(req); err != nil {
		return store.VerifyResult{}, err
	}
	keys := make([]string, 0, len(req.Limits)+1)
	args := make([]any, 0, 3+3*len(req.Limits)+len(req.Sources))
	args = append(args, len(req.Limits))
	for _, l := range req.Limits {
		keys = append(keys, s.prefix+l.Key)
		any := 0
		if l.AnyFailure {
			any = 1
		}
		args = append(args, l.Max, ms(l.Window), any)
	}
	keys = append(keys, s.prefix+req.Key)
	sources := req.Sources
	if len(sources) == 0 {
		sources = []string{""}
	}
	if s.cluster && !sameTag(keys) {
		return s.verifySteps(ctx, req, sources)
	}
	args = append(args, req.Hash, len(sources))
	for _, src := range sources {
		args = append(args, src)
	}
	r, err := verifyScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return store.VerifyResult{}, unavailable("verify", err)
	}
	if len(r) == 3 && r[0] == 0 {
		return store.VerifyResult{Outcome: store.VerifyRefused, Refused: int(r[1]),
			RetryAfter: time.Duration(r[2]) * time.Millisecond}, nil
	}
	if out, ok := verifyOutcome(r); ok {
		return store.VerifyResult{Outcome: out, Refused: -1}, nil
	}
	return store.VerifyResult{}, unavailable("verify", fmt.Errorf("unexpected script reply %v", r))
}

// verifyOutcome reads verifyScript's {outcome} reply: 1 OK, 2 wrong, 3 not
// found, 4 too many attempts.
func verifyOutcome(r []int64) (store.VerifyOutcome, bool) {
	if len(r) != 1 || r[0] < 1 || r[0] > 4 {
		return 0, false
	}
	return [...]store.VerifyOutcome{store.VerifyOK, store.VerifyWrong, store.VerifyNotFound, store.VerifyTooManyAttempts}[r[0]-1], true
}

// UseOnce implements store.Store with one SET NX PX.
func (s *Store) UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("redisstore: use once: %w", err)
	}
	if key == "" || ttl < time.Millisecond {
		return false, fmt.Errorf("redisstore: %w: UseOnce needs a key and a ttl of at least 1ms", store.ErrInvalid)
	}
	first, err := s.rdb.SetNX(ctx, s.prefix+key, 1, time.Duration(ms(ttl))*time.Millisecond).Result()
	if err != nil {
		return false, unavailable("use once", err)
	}
	return first, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// keys lists the Redis keys of req: its limits in order, then its code.
func (s *Store) keys(req store.SendRequest) []string {
	keys := make([]string, 0, len(req.Limits)+1)
	for _, l := range req.Limits {
		keys = append(keys, s.prefix+l.Key)
	}
	if req.Code.Key != "" {
		keys = append(keys, s.prefix+req.Code.Key)
	}
	return keys
}

func hasCode(req store.SendRequest) int {
	if req.Code.Key != "" {
		return 1
	}
	return 0
}

// ms is d in whole milliseconds, rounded up, the unit Redis expires in:
// rounding down could turn a short block into none.
func ms(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// unavailable wraps a failure to get an answer from Redis. Every such
// failure, a script error included, means the decision was not made, so
// callers must fail closed: hence store.ErrUnavailable for all of them.
func unavailable(op string, err error) error {
	return fmt.Errorf("redisstore: %s: %w: %w", op, store.ErrUnavailable, err)
}
