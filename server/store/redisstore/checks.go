package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// CheckTimeout bounds the start-up check of Redis's settings, so that a
// Redis that does not answer delays the start by at most this.
const CheckTimeout = 2 * time.Second

// Problem is a Redis setting that the limits rely on, set otherwise.
type Problem struct {
	// Node is the cluster node's host:port; empty for one server or a
	// Sentinel-managed primary.
	Node string
	// Setting is the setting's name, Value what Redis reports for it, Want
	// what to set instead, and Why what the setting costs the limits.
	Setting, Value, Want, Why string
}

// ErrNotChecked wraps the reason the settings could not be read: CONFIG
// refused (renamed, or not allowed to the user, as on many managed Redis
// services) or Redis unreachable.
var ErrNotChecked = errors.New("redisstore: could not read Redis's settings")

// CheckSettings reads, with CONFIG GET, the settings a limit relies on, on
// the primary (every primary of a cluster), and returns those set
// otherwise:
//
//   - maxmemory-policy must be noeviction: any other policy lets Redis
//     evict keys when it reaches maxmemory (every key of the store has a
//     TTL, so the volatile-* policies evict them too), and an evicted
//     counter is a forgotten limit. Under noeviction a full Redis refuses
//     writes, and sends fail closed with 503 SYS.0002.
//   - appendonly should be yes: without the AOF a restart of Redis forgets
//     every limit and code (all of them with save "", those written since
//     the last snapshot with RDB snapshots alone).
func CheckSettings(ctx context.Context, client redis.UniversalClient) ([]Problem, error) {
	if cc, ok := client.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var all []Problem
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			ps, err := checkNode(ctx, c)
			for i := range ps {
				ps[i].Node = c.Options().Addr
			}
			mu.Lock()
			all = append(all, ps...)
			mu.Unlock()
			return err
		})
		return all, err
	}
	return checkNode(ctx, client)
}

// configGetter is the one command checkNode needs.
type configGetter interface {
	ConfigGet(ctx context.Context, parameter string) *redis.MapStringStringCmd
}

func checkNode(ctx context.Context, c configGetter) ([]Problem, error) {
	get := func(name string) (string, error) {
		m, err := c.ConfigGet(ctx, name).Result()
		if err != nil {
			return "", fmt.Errorf("%w: CONFIG GET %s: %w", ErrNotChecked, name, err)
		}
		v, ok := m[name]
		if !ok {
			return "", fmt.Errorf("%w: CONFIG GET %s answered nothing", ErrNotChecked, name)
		}
		return v, nil
	}
	policy, err := get("maxmemory-policy")
	if err != nil {
		return nil, err
	}
	aof, err := get("appendonly")
	if err != nil {
		return nil, err
	}
	save, err := get("save")
	if err != nil {
		return nil, err
	}
	var ps []Problem
	if policy != "noeviction" {
		ps = append(ps, Problem{Setting: "maxmemory-policy", Value: policy, Want: "noeviction",
			Why: "Redis evicts keys when it reaches maxmemory, and an evicted counter is a forgotten limit (a second SMS within the cooldown)"})
	}
	if aof != "yes" {
		why := `with save "" nothing is persisted: a restart of Redis forgets every limit and code`
		if save != "" {
			why = fmt.Sprintf("only RDB snapshots (save %q) persist: a restart of Redis forgets the limits and codes written since the last snapshot", save)
		}
		ps = append(ps, Problem{Setting: "appendonly", Value: aof, Want: "yes (appendfsync everysec)", Why: why})
	}
	return ps, nil
}

// LogSettings runs CheckSettings and logs what it found: one warning per
// problem, naming the setting and what to set; or, when the settings could
// not be read, one info line saying so (managed Redis services often forbid
// CONFIG: that is no error, but the operator must make sure of them).
func LogSettings(ctx context.Context, client redis.UniversalClient, log *slog.Logger) {
	ps, err := CheckSettings(ctx, client)
	for _, p := range ps {
		attrs := []any{"setting", p.Setting, "value", p.Value, "set", p.Want, "why", p.Why}
		if p.Node != "" {
			attrs = append(attrs, "node", p.Node)
		}
		log.Warn(fmt.Sprintf("redis: %s is %q; set %s %s", p.Setting, p.Value, p.Setting, p.Want), attrs...)
	}
	switch {
	case err != nil:
		log.Info("redis: could not check maxmemory-policy and appendonly, which the limits rely on; make sure of them (README: Redis that fails over and restarts)", "err", err.Error())
	case len(ps) == 0:
		log.Info("redis: settings checked: maxmemory-policy noeviction, appendonly yes")
	}
}
