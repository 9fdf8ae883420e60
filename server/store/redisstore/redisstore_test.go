package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/redisstore"
	"github.com/smscode/smscode/server/store/storetest"
)

// newClient connects to addr the way the server does, through NewClient.
func newClient(t testing.TB, addr string) redis.UniversalClient {
	t.Helper()
	c, err := redisstore.NewClient(redisstore.Options{URL: "redis://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The suite on a real redis-server, sleeping for Advance; then every key
// the suite's operations left behind must carry a TTL.
// It runs with the decision scripts on the pool and autopipelined.
func TestConformanceRedis(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  redisstore.Config
	}{
		{"pool", redisstore.Config{}},
		{"autopipeline", redisstore.Config{AutoPipeline: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t)
			rdb := newClient(t, srv.Addr())
			s := redisstore.New(rdb, c.cfg)
			t.Run("suite", func(t *testing.T) {
				storetest.Run(t, storetest.Harness{
					New:     func(*testing.T) store.Store { return s },
					Advance: func(_ *testing.T, d time.Duration) { time.Sleep(d) },
				})
			})
			assertAllKeysExpire(t, rdb, redisstore.DefaultPrefix)
		})
	}
}

func assertAllKeysExpire(t *testing.T, rdb redis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	n := 0
	iter := rdb.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if !strings.HasPrefix(key, prefix) {
			t.Errorf("key %q lacks the prefix %q", key, prefix)
		}
		ttl, err := rdb.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		// -2 (gone since the scan) is fine; -1 (no TTL) is the bug.
		if ttl == -1 {
			t.Errorf("key %q has no TTL", key)
		}
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the suite left no keys to check")
	}
	t.Logf("%d keys, all with a TTL", n)
}

// The suite on miniredis, whose clock moves only with FastForward: exact
// times, no sleeping. Each subtest gets its own server, since FastForward
// moves a whole server's clock and subtests run in parallel.
func TestConformanceMiniredis(t *testing.T) {
	var servers sync.Map // *testing.T -> *miniredis.Miniredis
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			mr := miniredis.RunT(t)
			servers.Store(t, mr)
			return redisstore.New(newClient(t, mr.Addr()), redisstore.Config{Prefix: "test:"})
		},
		Advance: func(t *testing.T, d time.Duration) {
			mr, _ := servers.Load(t)
			mr.(*miniredis.Miniredis).FastForward(d)
		},
	})
}

// A Redis that goes away makes every method fail closed with an error
// wrapping store.ErrUnavailable, and the store recovers once Redis is back,
// even though the restarted server has lost its cached scripts.
func TestUnavailableAndRecovery(t *testing.T) {
	srv := redistest.Start(t)
	// Fail fast: no retries, so the test does not wait out backoffs.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	s := redisstore.New(rdb, redisstore.Config{})
	ctx := context.Background()
	req := store.SendRequest{
		Limits: []store.Limit{{Key: "{n}:limit", Max: 5, Window: time.Minute}},
		Code:   store.Code{Key: "{n}:code", Hash: []byte("h"), TTL: time.Minute, MaxAttempts: 3},
	}
	res, err := s.Reserve(ctx, req)
	if err != nil || !res.Allowed {
		t.Fatalf("Reserve = %+v, %v", res, err)
	}

	srv.Stop()
	wantUnavailable := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with Redis down: err = %v, want ErrUnavailable", op, err)
		}
	}
	start := time.Now()
	_, err = s.Reserve(ctx, req)
	wantUnavailable("Reserve", err)
	wantUnavailable("Release", s.Release(ctx, req, res))
	_, err = s.Verify(ctx, store.VerifyRequest{Key: "{n}:code", Hash: []byte("h")})
	wantUnavailable("Verify", err)
	_, err = s.UseOnce(ctx, "{n}:token", time.Minute)
	wantUnavailable("UseOnce", err)
	wantUnavailable("Ping", s.Ping(ctx))
	wantUnavailable("Put", s.Put(ctx, "{n}:v", []byte("x"), time.Minute))
	_, _, err = s.Take(ctx, "{n}:v")
	wantUnavailable("Take", err)
	t.Logf("seven calls against a stopped Redis took %v", time.Since(start))

	srv.Restart()
	// The pool's connections died with the old server; the first command
	// may still hit one, so allow a few attempts before calling it broken.
	deadline := time.Now().Add(5 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Ping still fails after restart: %v", s.Ping(ctx))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res, err = s.Reserve(ctx, req); err != nil || !res.Allowed {
		t.Fatalf("Reserve after restart = %+v, %v", res, err)
	}
	if out, err := s.Verify(ctx, store.VerifyRequest{Key: "{n}:code", Hash: []byte("h")}); err != nil || out.Outcome != store.VerifyOK {
		t.Fatalf("Verify after restart = %v, %v", out, err)
	}
}

// Keys are the prefix, then the caller's key with its hash tag intact.
func TestKeyLayout(t *testing.T) {
	mr := miniredis.RunT(t)
	s := redisstore.New(newClient(t, mr.Addr()), redisstore.Config{Prefix: "app:"})
	_, err := s.Reserve(context.Background(), store.SendRequest{
		Limits: []store.Limit{{Key: "{+8613800000000}:cooldown", Max: 1, Window: time.Minute}},
		Code:   store.Code{Key: "{+8613800000000}:login", Hash: []byte("h"), TTL: time.Minute, MaxAttempts: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(mr.Keys(), " ")
	if want := "app:{+8613800000000}:cooldown app:{+8613800000000}:login"; got != want {
		t.Errorf("keys = %q, want %q", got, want)
	}
	// Both keys hash on "+8613800000000": the same cluster slot.
	for _, k := range mr.Keys() {
		if tag := k[strings.IndexByte(k, '{')+1 : strings.IndexByte(k, '}')]; tag != "+8613800000000" {
			t.Errorf("%s: hash tag %q", k, tag)
		}
	}
	// The code is stored as the HMAC with a fresh attempt count.
	if h := mr.HGet("app:{+8613800000000}:login", "h"); h != "h" {
		t.Errorf("stored hash = %q", h)
	}
}

func TestNewPanicsOnMisuse(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("nil client", func() { redisstore.New(nil, redisstore.Config{}) })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	mustPanic("brace in prefix", func() { redisstore.New(rdb, redisstore.Config{Prefix: "{app}:"}) })
}

// A Release that reaches Redis twice (go-redis retransmits a pipeline or
// an autopipelined batch after a dropped connection, and a script that ran
// before the drop runs again) gives the counts back once: otherwise the
// second give-back makes room for a send past Max. Run on a single node and
// on a cluster, where the limits span tags (the stepped path).
func TestReleaseGivesBackOnce(t *testing.T) {
	single := func(t *testing.T) redis.UniversalClient { return newClient(t, redistest.Start(t).Addr()) }
	cluster := func(t *testing.T) redis.UniversalClient {
		rc := redistest.StartCluster(t, 3)
		c, err := redisstore.NewClient(redisstore.Options{ClusterAddrs: rc.Addrs()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	for name, start := range map[string]func(*testing.T) redis.UniversalClient{"single": single, "cluster": cluster} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := redisstore.New(start(t), redisstore.Config{})
			req := store.SendRequest{
				Limits: []store.Limit{
					{Key: "{once-a}:n", Max: 2, Window: time.Minute},
					{Key: "{once-b}:d", Max: 2, Window: time.Minute},
				},
				Code: store.Code{Key: "{once-a}:code", Hash: []byte("h"), TTL: time.Minute, MaxAttempts: 3},
			}
			first, err := s.Reserve(ctx, req)
			if err != nil || !first.Allowed {
				t.Fatalf("first send: %+v, %v", first, err)
			}
			if res, err := s.Reserve(ctx, req); err != nil || !res.Allowed {
				t.Fatalf("second send: %+v, %v", res, err)
			}
			// The first send's SMS failed: its Release, delivered twice.
			for range 2 {
				if err := s.Release(ctx, req, first); err != nil {
					t.Fatal(err)
				}
			}
			allowed := 0
			for range 3 {
				res, err := s.Reserve(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if res.Allowed {
					allowed++
				}
			}
			// One count was given back: one more send fits under Max 2.
			if allowed != 1 {
				t.Fatalf("%d sends allowed after a doubled release, want 1 (Max 2, one given back)", allowed)
			}
		})
	}
}
