package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/internal/testutil"
)

// Cluster is a Redis Cluster of masters only, owned by one test: each
// master a redis-server in cluster mode on loopback, the 16384 slots split
// evenly between them, stopped when the test ends.
type Cluster struct {
	Masters []*Server
}

// clusterSlots is Redis Cluster's number of hash slots.
const clusterSlots = 16384

// StartCluster starts n masters (3 when n is 0), gives each a contiguous
// share of the slots (CLUSTER ADDSLOTSRANGE), introduces them (CLUSTER
// MEET) and returns once every master reports cluster_state:ok and knows
// every slot's owner, so that a cluster client's first command finds the
// whole map. It needs nothing but redis-server (no redis-cli). Without the
// binary it skips the test like Start.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n == 0 {
		n = 3
	}
	bin := binary(t)
	c := &Cluster{}
	buses := make([]int, n)
	for i := range n {
		// The cluster bus gets a port of its own: the default (port +
		// 10000) may be taken or beyond 65535.
		bus, err := testutil.FreePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		buses[i] = bus
		c.Masters = append(c.Masters, start(t, &Server{t: t, bin: bin, dir: t.TempDir(), args: []string{
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-node-timeout", "5000",
			// Each node's own nodes.conf, in its own dir.
			"--cluster-config-file", "nodes.conf",
		}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	clients := make([]*redis.Client, n)
	for i, m := range c.Masters {
		clients[i] = redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
		defer clients[i].Close()
		lo, hi := i*clusterSlots/n, (i+1)*clusterSlots/n-1
		if err := clients[i].ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			t.Fatalf("redistest: CLUSTER ADDSLOTSRANGE %d %d on %s: %v", lo, hi, m.Addr(), err)
		}
	}
	for i, m := range c.Masters[1:] {
		// MEET names the bus port, which is not the default's port + 10000.
		if err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", m.port, buses[i+1]).Err(); err != nil {
			t.Fatalf("redistest: CLUSTER MEET %s: %v", m.Addr(), err)
		}
	}
	for i, cl := range clients {
		var last string
		for {
			info, err := cl.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				if owners(ctx, cl) == n {
					break
				}
			}
			last = info
			select {
			case <-ctx.Done():
				t.Fatalf("redistest: cluster node %s not ready within %v: %s", c.Masters[i].Addr(), readyTimeout, last)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return c
}

// Addrs are the masters' host:port addresses (store.redis.cluster_addrs).
func (c *Cluster) Addrs() []string { return addrsOf(c.Masters) }

// owners is how many masters the node knows to hold slots.
func owners(ctx context.Context, cl *redis.Client) int {
	shards, err := cl.ClusterShards(ctx).Result()
	if err != nil {
		return 0
	}
	n := 0
	for _, sh := range shards {
		if len(sh.Slots) > 0 {
			n++
		}
	}
	return n
}
