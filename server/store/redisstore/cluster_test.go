package redisstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/redisstore"
	"github.com/smscode/smscode/server/store/storetest"
)

// The suite on a real 3-master Redis Cluster, through NewClient's cluster
// client. The suite gives each key of a call its own hash tag, so most
// decisions span slots and masters (the stepped path of cluster.go); the
// keys must then have spread over every master, each with a TTL.
func TestConformanceCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	rdb, err := redisstore.NewClient(redisstore.Options{ClusterAddrs: rc.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	s := redisstore.New(rdb, redisstore.Config{})
	t.Run("suite", func(t *testing.T) {
		storetest.Run(t, storetest.Harness{
			New:     func(*testing.T) store.Store { return s },
			Advance: func(_ *testing.T, d time.Duration) { time.Sleep(d) },
		})
	})
	var mu sync.Mutex
	perMaster := map[string]int{}
	err = rdb.(*redis.ClusterClient).ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
		n := 0
		iter := c.Scan(ctx, 0, "*", 100).Iterator()
		for iter.Next(ctx) {
			if ttl, err := c.PTTL(ctx, iter.Val()).Result(); err == nil && ttl == -1 {
				t.Errorf("key %q has no TTL", iter.Val())
			}
			n++
		}
		mu.Lock()
		perMaster[c.Options().Addr] = n
		mu.Unlock()
		return iter.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("keys per master after the suite: %v", perMaster)
	if len(perMaster) != 3 {
		t.Fatalf("%d masters answered, want 3", len(perMaster))
	}
	for addr, n := range perMaster {
		if n == 0 {
			t.Errorf("master %s holds no key: the suite's keys did not spread", addr)
		}
	}
}
