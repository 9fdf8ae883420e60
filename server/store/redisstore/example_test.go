package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/redisstore"
)

func Example() {
	mr, err := miniredis.Run() // stands in for a real server here
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()

	// Options usually come from the config file's redis: section.
	client, err := redisstore.NewClient(redisstore.Options{
		URL:         "redis://" + mr.Addr() + "/0",
		DialTimeout: time.Second,
		ReadTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	s := redisstore.New(client, redisstore.Config{}) // keys under "smscode:"

	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		log.Fatal(err) // wraps store.ErrUnavailable: not ready
	}
	req := store.SendRequest{
		Limits: []store.Limit{{Key: "{+8613800000000}:cooldown", Max: 1, Window: time.Minute}},
		Code:   store.Code{Key: "{+8613800000000}:login", Hash: []byte("hmac of the code"), TTL: 5 * time.Minute, MaxAttempts: 5},
	}
	res, err := s.Reserve(ctx, req)
	fmt.Println(res.Allowed, err, mr.Keys())
	// Output: true <nil> [smscode:{+8613800000000}:cooldown smscode:{+8613800000000}:login]
}

// LogSettings at start-up: here against a server that does not know CONFIG
// (miniredis; many managed Redis services forbid it), so it can only say
// that it could not check. Against a redis-server without persistence it
// would warn: redis: appendonly is "no"; set appendonly yes (appendfsync
// everysec).
func ExampleLogSettings() {
	mr, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()
	client, err := redisstore.NewClient(redisstore.Options{URL: "redis://" + mr.Addr()})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "err" {
				return slog.Attr{} // not reproducible here
			}
			return a
		},
	}))
	ctx, cancel := context.WithTimeout(context.Background(), redisstore.CheckTimeout)
	defer cancel()
	redisstore.LogSettings(ctx, client, logger)
	_, err = redisstore.CheckSettings(ctx, client)
	fmt.Println(errors.Is(err, redisstore.ErrNotChecked))
	// Output:
	// level=INFO msg="redis: could not check maxmemory-policy and appendonly, which the limits rely on; make sure of them (README: Redis that fails over and restarts)"
	// true
}

// Sentinel with each send decision waiting for one replica: the options come
// from store.redis, and the store takes its part of them.
func ExampleOptions_StoreConfig() {
	opts := redisstore.Options{
		SentinelMaster: "mymaster",
		SentinelAddrs:  []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		WaitReplicas:   1, // run two replicas, so that losing one does not stop sends
		WaitTimeout:    100 * time.Millisecond,
	}
	if err := opts.Validate(); err != nil {
		log.Fatal(err)
	}
	client, err := redisstore.NewClient(opts) // connects lazily
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	s := redisstore.New(client, opts.StoreConfig())
	fmt.Println(s != nil, opts.StoreConfig().WaitReplicas)
	// Output: true 1
}
