package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/internal/testutil"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/redisstore"
)

// sendFor is a send decision for one number: a 60 s cooldown and its code.
func sendFor(number string) store.SendRequest {
	return store.SendRequest{
		Limits: []store.Limit{{Key: "{" + number + "}:cooldown", Max: 1, Window: time.Minute}},
		Code:   store.Code{Key: "{" + number + "}:login", Hash: []byte("hmac"), TTL: 5 * time.Minute, MaxAttempts: 5},
	}
}

// What replication lag costs, and what wait_replicas buys: a primary and
// one replica; the send decision is taken on the primary, the primary is
// killed (SIGKILL) and the replica promoted, and the same number is sent to
// again on it, within its cooldown. An allowed decision is an SMS.
//
// The replica is made to lag for certain by pointing it at a port nobody
// listens on: it keeps its data and serves it, but gets no more writes.
// (On loopback a healthy replica lags by microseconds, so that a kill
// landing inside the lag is too rare to test; a slow network, a busy
// replica or a broken link makes the same window wide.)
func TestWaitReplicasAcrossPromotion(t *testing.T) {
	tests := []struct {
		name    string
		lag     bool     // the replica gets no writes from the primary
		wait    int      // wait_replicas
		primary []string // the primary's redis-server options
		// firstSent is whether the decision on the primary allowed the
		// send; sms is how many sends were allowed in all, the one after
		// the promotion included.
		firstSent bool
		sms       int
	}{
		{"replica behind, no wait: the cooldown is lost, a second SMS", true, 0, nil, true, 2},
		{"replica behind, wait_replicas 1: the send fails closed, one SMS after the promotion", true, 1, nil, false, 1},
		{"replica in sync, wait_replicas 1: the cooldown survives the promotion", false, 1, nil, true, 1},
		// Redis's own bound: the primary refuses writes (NOREPLICAS)
		// once it has had no replica acknowledging for the lag.
		{"replica gone, min-replicas-to-write 1 on the primary: the send fails closed", true, 0,
			[]string{"--min-replicas-to-write", "1", "--min-replicas-max-lag", "1"}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			primary := redistest.Start(t, tt.primary...)
			replica := redistest.StartReplica(t, primary)
			onReplica := newClient(t, replica.Addr())
			if tt.lag {
				dead, err := testutil.FreePort()
				if err != nil {
					t.Fatal(err)
				}
				if err := onReplica.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(dead)).Err(); err != nil {
					t.Fatal(err)
				}
				// Until the primary has seen the link close it still
				// counts the replica (min-replicas-to-write would let
				// the write through).
				deadline := time.Now().Add(5 * time.Second)
				for {
					info, err := redistest.InfoReplication(ctx, primary.Addr())
					if err == nil && info["connected_slaves"] == "0" {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the primary still lists its replica: %v, %v", info, err)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			// Short where the wait is to time out; long where the
			// replica must acknowledge, even on a busy machine (900ms
			// timed out once under a loaded -race run).
			timeout := 2 * time.Second // below the client's 3s read timeout
			if tt.lag {
				timeout = 50 * time.Millisecond
			}
			s := redisstore.New(newClient(t, primary.Addr()), redisstore.Config{WaitReplicas: tt.wait, WaitTimeout: timeout})
			req := sendFor("+8613800000001")
			sms := 0
			began := time.Now()
			res, err := s.Reserve(ctx, req)
			took, firstErr := time.Since(began), err
			switch {
			case tt.firstSent && (err != nil || !res.Allowed):
				t.Fatalf("decision on the primary: %+v, %v; want allowed", res, err)
			case !tt.firstSent && !errors.Is(err, store.ErrUnavailable):
				t.Fatalf("decision on the primary: %+v, %v; want ErrUnavailable (fail closed)", res, err)
			case !tt.firstSent:
				// Given back: a retry on the primary is not refused by
				// a cooldown whose SMS never went out; it fails closed
				// again for as long as the replica does not acknowledge.
				if res, err := s.Reserve(ctx, req); !errors.Is(err, store.ErrUnavailable) {
					t.Fatalf("retry on the primary: %+v, %v; want ErrUnavailable again", res, err)
				}
			default:
				sms++
			}

			primary.Stop() // SIGKILL, at once
			if err := onReplica.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
				t.Fatal(err)
			}
			promoted := redisstore.New(onReplica, redisstore.Config{})
			res, err = promoted.Reserve(ctx, req)
			if err != nil {
				t.Fatalf("decision on the promoted replica: %v", err)
			}
			if res.Allowed {
				sms++
			}
			if sms != tt.sms {
				t.Errorf("%d sends allowed within one cooldown, want %d", sms, tt.sms)
			}
			t.Logf("decision on the primary in %v (err %v); after the promotion allowed %v: %d SMS", took.Round(time.Microsecond), firstErr, res.Allowed, sms)
		})
	}
}

// The cost of wait_replicas on loopback: the same decisions with and
// without WAIT 1 on a healthy primary and replica, interleaved in rounds so
// that both see the same machine. Every decision with WAIT must be allowed
// (the replica acknowledges in time).
func TestWaitReplicasCost(t *testing.T) {
	const rounds, perRound = 5, 40
	ctx := context.Background()
	primary := redistest.Start(t)
	redistest.StartReplica(t, primary)
	client := newClient(t, primary.Addr())
	stores := map[int]*redisstore.Store{
		0: redisstore.New(client, redisstore.Config{}),
		// A long timeout: a busy machine may slow the replica, and this
		// test is about the time an acknowledgement takes, not a refusal.
		1: redisstore.New(client, redisstore.Config{WaitReplicas: 1, WaitTimeout: 2 * time.Second}),
	}
	took := map[int][]time.Duration{}
	n := 0
	for range rounds {
		for _, w := range []int{0, 1} {
			for range perRound {
				n++
				start := time.Now()
				res, err := stores[w].Reserve(ctx, sendFor(fmt.Sprintf("+86139%08d", n)))
				took[w] = append(took[w], time.Since(start))
				if err != nil || !res.Allowed {
					t.Fatalf("wait_replicas %d: %+v, %v", w, res, err)
				}
			}
		}
	}
	median := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2]
	}
	p99 := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)*99/100]
	}
	t.Logf("send decision on loopback, %d each: no wait median %v p99 %v; wait_replicas 1 median %v p99 %v",
		rounds*perRound, median(took[0]).Round(time.Microsecond), p99(took[0]).Round(time.Microsecond),
		median(took[1]).Round(time.Microsecond), p99(took[1]).Round(time.Microsecond))
}

// The wait options are checked with the rest.
func TestValidateWaitOptions(t *testing.T) {
	tests := []struct {
		name string
		o    redisstore.Options
		ok   bool
	}{
		{"url with wait", redisstore.Options{URL: "redis://r:6379", WaitReplicas: 1}, true},
		{"sentinel with wait and timeout", redisstore.Options{SentinelMaster: "m", SentinelAddrs: []string{"s:26379"}, WaitReplicas: 2, WaitTimeout: 200 * time.Millisecond}, true},
		{"cluster with wait", redisstore.Options{ClusterAddrs: []string{"c:6379"}, WaitReplicas: 1}, false},
		{"negative wait", redisstore.Options{URL: "redis://r:6379", WaitReplicas: -1}, false},
		{"negative timeout", redisstore.Options{URL: "redis://r:6379", WaitReplicas: 1, WaitTimeout: -time.Second}, false},
		{"timeout at the read timeout", redisstore.Options{URL: "redis://r:6379", WaitReplicas: 1, WaitTimeout: time.Second}, false},
		{"timeout below an explicit read timeout", redisstore.Options{URL: "redis://r:6379", WaitReplicas: 1, WaitTimeout: time.Second, ReadTimeout: 2 * time.Second}, true},
		{"timeout without wait", redisstore.Options{URL: "redis://r:6379", WaitTimeout: time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
