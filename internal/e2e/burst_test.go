package e2e

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Bounds of a burst: the requests in flight at once (the client's pool
// keeps 128 idle connections per instance, two instances), and the time
// one request may take.
const (
	maxBurstParallel = 256
	burstTimeout     = 10 * time.Second
)

// shot is one request of a burst: the instance it went to, and its answer
// or why none came.
type shot struct {
	node string
	r    reply
	err  error
}

// burst fires n requests at c's instances, alternating (the i-th goes to
// c.nodes[i%len(c.nodes)]), from parallel workers released at once (with
// parallel >= n, every request at once), each request bounded by
// burstTimeout; do(ctx, in, i) makes the i-th. It returns the shots by i
// and how long the burst took.
func (c *cluster) burst(t *testing.T, n, parallel int, do func(ctx context.Context, in *instance, i int) (reply, error)) ([]shot, time.Duration) {
	t.Helper()
	if parallel < 1 || parallel > maxBurstParallel {
		t.Fatalf("burst of %d requests, %d at a time: want 1 to %d at a time", n, parallel, maxBurstParallel)
	}
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	shots := make([]shot, n) // index i is written by one worker only
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range min(parallel, n) {
		wg.Go(func() {
			<-start
			for i := range next {
				in := c.nodes[i%len(c.nodes)]
				ctx, cancel := context.WithTimeout(context.Background(), burstTimeout)
				r, err := do(ctx, in, i)
				cancel()
				shots[i] = shot{node: in.name, r: r, err: err}
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	return shots, time.Since(began)
}

// tally counts the answers of a burst by status and error code; a request
// that got no answer is reported as an error and not counted.
func tally(t *testing.T, shots []shot) map[outcome]int {
	t.Helper()
	counts := map[outcome]int{}
	for i, s := range shots {
		if s.err != nil {
			t.Errorf("request %d via %s: %v", i, s.node, s.err)
			continue
		}
		counts[outcome{s.r.Status, s.r.Code}]++
	}
	return counts
}

// TestBurst checks the helper itself, without a server: every request is
// made once, its shot is at its index and names the instance it went to,
// and as many requests are in flight at once as asked, no more.
func TestBurst(t *testing.T) {
	c := &cluster{nodes: []*instance{{name: "A"}, {name: "B"}}}
	for _, tc := range []struct{ n, parallel int }{{200, 200}, {100, 32}, {5, 8}, {1, 1}} {
		want := min(tc.n, tc.parallel)
		var mu sync.Mutex
		inFlight, most, arrived := 0, 0, 0
		together := make(chan struct{}) // closed when the first want requests are all in flight
		// One deadline for the case's waits: a burst with too few workers
		// fails within it, not after a wait per request.
		waited, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		shots, took := c.burst(t, tc.n, tc.parallel, func(ctx context.Context, in *instance, i int) (reply, error) {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			if arrived++; arrived == want {
				close(together)
			}
			mu.Unlock()
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
			select {
			case <-together:
			case <-waited.Done(): // not all in flight at once: most says so below
			}
			return reply{Status: i, Code: in.name}, nil
		})
		t.Logf("%d requests, %d at a time: %d in flight at most, took %v", tc.n, tc.parallel, most, took)
		if most != want {
			t.Errorf("%d requests, %d at a time: %d in flight at most, want %d", tc.n, tc.parallel, most, want)
		}
		if arrived != tc.n || len(shots) != tc.n {
			t.Errorf("%d requests: %d made, %d shots", tc.n, arrived, len(shots))
		}
		for i, s := range shots {
			if node := c.nodes[i%2].name; s.err != nil || s.r.Status != i || s.node != node || s.r.Code != node {
				t.Errorf("shot %d = %+v, want request %d's answer from %s", i, s, i, node)
			}
		}
	}
}
