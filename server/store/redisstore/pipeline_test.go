package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/redisstore"
)

// TestAutoPipelineSharesRoundTrips makes send decisions from many
// goroutines at once and counts, in Redis's INFO, the socket reads they
// cost (one per round trip; a pipelined batch read at once is one) and
// the scripts run. Autopipelined, concurrent decisions share reads; on the
// pool, each is a read of its own. Every decision must still be allowed
// exactly once per number: a batch is not a transaction, and each script
// stays atomic.
func TestAutoPipelineSharesRoundTrips(t *testing.T) {
	const goroutines, each = 32, 20
	for _, c := range []struct {
		name     string
		opts     redisstore.Options
		maxReads float64 // most reads per decision
		minReads float64
	}{
		{"default is autopipelined", redisstore.Options{}, 0.8, 0},
		{"auto_pipeline false", redisstore.Options{AutoPipeline: new(bool)}, 10, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t)
			o := c.opts
			o.URL = "redis://" + srv.Addr()
			rdb, err := redisstore.NewClient(o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = rdb.Close() })
			s := redisstore.New(rdb, o.StoreConfig())
			ctx := context.Background()
			if err := s.Ping(ctx); err != nil { // dial before counting
				t.Fatal(err)
			}
			// A separate connection for INFO, so that its reads are its own.
			stats := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			t.Cleanup(func() { _ = stats.Close() })
			reads0, evals0 := readsAndEvals(t, stats)

			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, goroutines*each)
			for g := range goroutines {
				wg.Go(func() {
					<-start
					for i := range each {
						tag := fmt.Sprintf("{pipe:%d:%d}", g, i)
						req := store.SendRequest{
							Limits: []store.Limit{{Key: tag + ":num", Max: 1, Window: time.Minute}},
							Code:   store.Code{Key: tag + ":code", Hash: []byte("h"), TTL: time.Minute, MaxAttempts: 3},
						}
						for try, want := range []bool{true, false} { // the second is refused by the first
							res, err := s.Reserve(ctx, req)
							if err != nil || res.Allowed != want {
								errs <- fmt.Errorf("%s try %d: Reserve = %+v, %v; want allowed %v", tag, try, res, err, want)
							}
						}
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			reads1, evals1 := readsAndEvals(t, stats)
			decisions := float64(2 * goroutines * each)
			perDecision := float64(reads1-reads0-1) / decisions // -1: the INFO itself
			t.Logf("%.0f decisions, %d scripts, %.2f socket reads per decision", decisions, evals1-evals0, perDecision)
			if got := float64(evals1 - evals0); got < decisions {
				t.Errorf("%v scripts ran for %v decisions", got, decisions)
			}
			if perDecision > c.maxReads || perDecision < c.minReads {
				t.Errorf("%.2f reads per decision, want %v to %v", perDecision, c.minReads, c.maxReads)
			}
		})
	}
}

// readsAndEvals reads total_reads_processed and the EVALSHA and EVAL calls.
func readsAndEvals(t *testing.T, rdb *redis.Client) (reads, evals int64) {
	t.Helper()
	info, err := rdb.Info(context.Background(), "stats", "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch name {
		case "total_reads_processed":
			reads, _ = strconv.ParseInt(value, 10, 64)
		case "cmdstat_evalsha", "cmdstat_eval":
			calls, _, _ := strings.Cut(strings.TrimPrefix(value, "calls="), ",")
			n, _ := strconv.ParseInt(calls, 10, 64)
			evals += n
		}
	}
	return reads, evals
}
