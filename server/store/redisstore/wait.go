package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

// DefaultWaitTimeout is how long a send decision waits for its replicas
// when Options.WaitReplicas is set and WaitTimeout is not.
const DefaultWaitTimeout = 100 * time.Millisecond

// Why WAIT: a replica copies the primary's writes asynchronously, so a
// counter the primary wrote, and on which an SMS went out, may not have
// reached the replica when the primary dies. Sentinel then promotes the
// replica without it: the cooldown is forgotten, and the next send to the
// number gets a second SMS. WAIT n t, sent on the connection that ran the
// decision, answers once n replicas have acknowledged everything that
// connection wrote (or t has passed) with how many did. Only an allowed
// decision needs it: a refusal sends nothing.

// errNotReplicated is the cause of an allowed send that too few replicas
// acknowledged in time.
var errNotReplicated = errors.New("too few replicas acknowledged the send decision")

type waitConfig struct {
	replicas int
	timeout  time.Duration
}

func (o Options) waitTimeout() time.Duration {
	if o.WaitTimeout == 0 {
		return DefaultWaitTimeout
	}
	return o.WaitTimeout
}

func newWaitConfig(cfg Config) waitConfig {
	if cfg.WaitReplicas <= 0 {
		return waitConfig{}
	}
	w := waitConfig{replicas: cfg.WaitReplicas, timeout: cfg.WaitTimeout}
	if w.timeout <= 0 {
		w.timeout = DefaultWaitTimeout
	}
	return w
}

// StoreConfig is the part of the options the Store itself takes (Options
// are the client's; New takes a Config).
func (o Options) StoreConfig() Config {
	return Config{WaitReplicas: o.WaitReplicas, WaitTimeout: o.WaitTimeout,
		AutoPipeline: o.AutoPipeline == nil || *o.AutoPipeline}
}

func (o Options) validateWait(m mode) error {
	switch {
	case o.WaitReplicas < 0 || o.WaitTimeout < 0:
		return errors.New("redis: wait_replicas and wait_timeout must not be negative")
	case o.WaitReplicas == 0 && o.WaitTimeout != 0:
		return errors.New("redis: wait_timeout needs wait_replicas")
	case o.WaitReplicas > 0 && o.waitTimeout() >= o.withDefaults().ReadTimeout:
		// The client would stop reading before WAIT answers: every
		// send would fail.
		return errors.New("redis: wait_timeout must be below read_timeout")
	case o.WaitReplicas > 0 && m == modeCluster:
		// A cluster pipeline may run WAIT on another node than the
		// script's, where it would wait for nothing.
		return errors.New("redis: wait_replicas is for url and sentinel_*, not cluster_addrs")
	}
	return nil
}

// runReserve runs the reserve script and returns its reply. With
// WaitReplicas, WAIT follows the script in one pipeline (one connection,
// one round trip); an allowed decision that fewer replicas acknowledged is
// given back (Release) and returned as an error, so that the caller fails
// closed and a retry is not refused by a cooldown whose SMS never went out.
func (s *Store) runReserve(ctx context.Context, req store.SendRequest, reservation string, keys []string, args []any) ([]int64, error) {
	if s.wait.replicas == 0 {
		return reserveScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	}
	cmd, acked, err := s.evalAndWait(ctx, reserveScript, keys, args)
	if err != nil {
		return nil, err
	}
	r, err := cmd.Int64Slice()
	if err != nil {
		return nil, err
	}
	if len(r) == 1 && r[0] == 1 && acked < int64(s.wait.replicas) {
		relErr := s.Release(ctx, req, store.SendResult{Allowed: true, Reservation: reservation})
		return nil, errors.Join(fmt.Errorf("%w: %d of %d within %v", errNotReplicated, acked, s.wait.replicas, s.wait.timeout), relErr)
	}
	return r, nil
}

// evalAndWait pipelines EVALSHA (EVAL when Redis does not have the script
// yet) and WAIT, and returns the script's reply and WAIT's count.
func (s *Store) evalAndWait(ctx context.Context, script *redis.Script, keys []string, args []any) (*redis.Cmd, int64, error) {
	run := func(sha bool) (*redis.Cmd, *redis.Cmd) {
		pipe := s.rdb.Pipeline()
		var cmd *redis.Cmd
		if sha {
			cmd = script.EvalSha(ctx, pipe, keys, args...)
		} else {
			cmd = script.Eval(ctx, pipe, keys, args...)
		}
		wait := pipe.Do(ctx, "WAIT", s.wait.replicas, ms(s.wait.timeout))
		_, _ = pipe.Exec(ctx) // each command keeps its own error
		return cmd, wait
	}
	cmd, wait := run(true)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		cmd, wait = run(false)
	}
	if err := cmd.Err(); err != nil {
		return nil, 0, err
	}
	acked, err := wait.Int64()
	if err != nil {
		return nil, 0, fmt.Errorf("WAIT: %w", err)
	}
	return cmd, acked, nil
}
