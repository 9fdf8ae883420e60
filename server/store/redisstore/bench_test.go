package redisstore_test

import (
	"testing"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/server/store/memstore"
	"github.com/smscode/smscode/server/store/redisstore"
	"github.com/smscode/smscode/server/store/storetest"
)

// BenchmarkReserve is one send decision at a time on a real redis-server
// over loopback: mostly the round trip.
func BenchmarkReserve(b *testing.B) {
	srv := redistest.Start(b)
	storetest.BenchReserve(b, redisstore.New(newClient(b, srv.Addr()), redisstore.Config{}))
}

// BenchmarkSendDecision runs the same workload on both stores in one run,
// so that their ratio is read off one machine under one load.
func BenchmarkSendDecision(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		s := memstore.New(memstore.Config{})
		defer s.Close()
		storetest.BenchReserve(b, s)
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		storetest.BenchReserve(b, redisstore.New(newClient(b, srv.Addr()), redisstore.Config{}))
	})
	b.Run("memory-parallel", func(b *testing.B) {
		s := memstore.New(memstore.Config{})
		defer s.Close()
		storetest.BenchReserveParallel(b, s)
	})
	b.Run("redis-parallel", func(b *testing.B) {
		srv := redistest.Start(b)
		storetest.BenchReserveParallel(b, redisstore.New(newClient(b, srv.Addr()), redisstore.Config{}))
	})
	// As the server runs it (store.redis.auto_pipeline, the default):
	// concurrent decisions share round trips.
	b.Run("redis-autopipeline-parallel", func(b *testing.B) {
		srv := redistest.Start(b)
		storetest.BenchReserveParallel(b, redisstore.New(newClient(b, srv.Addr()), redisstore.Config{AutoPipeline: true}))
	})
}
