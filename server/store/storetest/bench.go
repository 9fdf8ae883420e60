package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// benchNumbers is how many phone numbers the benchmarks rotate through.
const benchNumbers = 1024

// benchRequests are send decisions as the pipeline makes them: three limits
// (per number, per client IP, per number prefix) and a code. The limits
// never refuse, so that every iteration takes the full allowed path, and
// memory stays flat however large b.N grows.
func benchRequests() []store.SendRequest {
	reqs := make([]store.SendRequest, benchNumbers)
	for i := range reqs {
		tag := fmt.Sprintf("{bench:+86138%08d}", i)
		reqs[i] = store.SendRequest{
			Limits: []store.Limit{
				{Key: tag + ":num", Max: 1 << 40, Window: time.Minute},
				{Key: tag + ":ip", Max: 1 << 40, Window: time.Hour},
				{Key: tag + ":prefix", Max: 1 << 40, Window: 10 * time.Minute, Block: time.Hour},
			},
			Code: store.Code{Key: tag + ":code", Hash: hash(fmt.Sprint(i)), TTL: 5 * time.Minute, MaxAttempts: 5},
		}
	}
	return reqs
}

// spreadRequests are send decisions with the sender's key layout: each
// entity's keys under a hash tag of their own (the number's cooldown, daily
// count and code; the device's, the address's, the prefix's; the
// application's daily count), so that a decision spans several shards or
// slots, as a real send's does.
func spreadRequests() []store.SendRequest {
	reqs := make([]store.SendRequest, benchNumbers)
	for i := range reqs {
		num := fmt.Sprintf("{bench:n:%032x}", i)
		reqs[i] = store.SendRequest{
			Limits: []store.Limit{
				{Key: num + ":cd:LOGIN_SMS", Max: 1 << 40, Window: time.Minute},
				{Key: num + ":nd", Max: 1 << 40, Window: 24 * time.Hour},
				{Key: fmt.Sprintf("{bench:d:%032x}:dev", i%64), Max: 1 << 40, Window: time.Hour},
				{Key: fmt.Sprintf("{bench:i:198.51.100.%d}:ip", i%256), Max: 1 << 40, Window: time.Hour},
				{Key: fmt.Sprintf("{bench:p:%032x}:pfx", i%16), Max: 1 << 40, Window: 10 * time.Minute, Block: time.Hour},
				{Key: "{bench}:app", Max: 1 << 40, Window: 24 * time.Hour},
			},
			Code: store.Code{Key: num + ":code:LOGIN_SMS", Hash: hash(fmt.Sprint(i)), TTL: 5 * time.Minute, MaxAttempts: 5},
		}
	}
	return reqs
}

// BenchReserve measures one send decision at a time on s (latency), with
// every key under one hash tag and with the sender's layout (spread).
func BenchReserve(b *testing.B, s store.Store) {
	b.Run("one-tag", func(b *testing.B) { benchReserve(b, s, benchRequests()) })
	b.Run("spread", func(b *testing.B) { benchReserve(b, s, spreadRequests()) })
}

func benchReserve(b *testing.B, s store.Store, reqs []store.SendRequest) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		res, err := s.Reserve(ctx, reqs[i%benchNumbers])
		if err != nil || !res.Allowed {
			b.Fatalf("Reserve = %+v, %v", res, err)
		}
		i++
	}
}

// BenchReserveParallel measures send decisions made from GOMAXPROCS
// goroutines at once on s (throughput under contention).
func BenchReserveParallel(b *testing.B, s store.Store) {
	reqs := benchRequests()
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := s.Reserve(ctx, reqs[next.Add(1)%benchNumbers])
			if err != nil || !res.Allowed {
				b.Errorf("Reserve = %+v, %v", res, err)
				return
			}
		}
	})
}
