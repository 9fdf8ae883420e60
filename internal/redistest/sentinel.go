package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the Sentinels of StartSentinel monitor the primary
// under (store.redis.sentinel_master).
const MasterName = "smscode"

// SentinelOptions shape StartSentinel's deployment. Zero fields take the
// defaults, which are small so that a failover takes a few seconds.
type SentinelOptions struct {
	// Replicas is how many replicas the primary has (default 1).
	Replicas int
	// DownAfter is down-after-milliseconds: how long a node does not
	// answer before a Sentinel thinks it down (default 750 ms).
	DownAfter time.Duration
	// FailoverTimeout is failover-timeout; a failed failover is tried
	// again after twice this (default 2 s).
	FailoverTimeout time.Duration
	// Args are redis-server options for the primary and the replicas
	// (e.g. "--min-replicas-to-write", "1").
	Args []string
}

// Sentinel is a Sentinel-managed Redis owned by one test: a primary, its
// replicas and three Sentinels (quorum 2), every process on loopback and
// stopped when the test ends.
type Sentinel struct {
	Primary   *Server
	Replicas  []*Server
	Sentinels []*Server
}

// readyTimeout bounds how long StartSentinel waits for the replicas to sync
// and for the Sentinels to find each other and the replicas (they announce
// themselves every 2 s).
const readyTimeout = 20 * time.Second

// StartSentinel starts the primary, its replicas, then three Sentinels, and
// returns once every replica is in sync and every Sentinel knows the two
// others and every replica, so that a failover can be authorised at once.
// Without redis-server it skips the test like Start.
func StartSentinel(t testing.TB, o SentinelOptions) *Sentinel {
	t.Helper()
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.DownAfter == 0 {
		o.DownAfter = 750 * time.Millisecond
	}
	if o.FailoverTimeout == 0 {
		o.FailoverTimeout = 2 * time.Second
	}
	s := &Sentinel{Primary: Start(t, o.Args...)}
	_, port, _ := net.SplitHostPort(s.Primary.Addr())
	for range o.Replicas {
		s.Replicas = append(s.Replicas, StartReplica(t, s.Primary, o.Args...))
	}
	deadline := time.Now().Add(readyTimeout)
	conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]s 2\n"+
		"sentinel down-after-milliseconds %[1]s %[3]d\n"+
		"sentinel failover-timeout %[1]s %[4]d\n"+
		"sentinel parallel-syncs %[1]s 1\n",
		MasterName, port, o.DownAfter.Milliseconds(), o.FailoverTimeout.Milliseconds())
	bin := binary(t)
	for range 3 {
		s.Sentinels = append(s.Sentinels, start(t, &Server{t: t, bin: bin, dir: t.TempDir(), sentinelConf: conf}))
	}
	for _, sn := range s.Sentinels {
		waitFor(t, deadline, "sentinel "+sn.Addr()+" ready", func(ctx context.Context) error {
			c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), MaxRetries: -1})
			defer c.Close()
			if _, err := c.CkQuorum(ctx, MasterName).Result(); err != nil {
				return err
			}
			others, err := c.Sentinels(ctx, MasterName).Result()
			if err != nil {
				return err
			}
			if len(others) != len(s.Sentinels)-1 {
				return fmt.Errorf("knows %d other sentinels", len(others))
			}
			replicas, err := c.Replicas(ctx, MasterName).Result()
			if err != nil {
				return err
			}
			good := 0
			for _, r := range replicas {
				if r["flags"] == "slave" && r["master-link-status"] == "ok" {
					good++
				}
			}
			if good != len(s.Replicas) {
				return fmt.Errorf("knows %d good replicas of %d", good, len(s.Replicas))
			}
			return nil
		})
	}
	return s
}

// StartReplica starts a replica of primary (with args, like Start) and
// returns once it has synced (master_link_status up).
func StartReplica(t testing.TB, primary *Server, args ...string) *Server {
	t.Helper()
	host, port, _ := net.SplitHostPort(primary.Addr())
	r := Start(t, append(append([]string(nil), args...), "--replicaof", host, port)...)
	waitFor(t, time.Now().Add(readyTimeout), "replica "+r.Addr()+" in sync", func(ctx context.Context) error {
		info, err := InfoReplication(ctx, r.Addr())
		if err != nil {
			return err
		}
		if info["master_link_status"] != "up" {
			return fmt.Errorf("master_link_status %q", info["master_link_status"])
		}
		// The primary's side too: a replica it does not count online yet
		// acknowledges no WAIT (a loaded machine shows the gap).
		pinfo, err := InfoReplication(ctx, primary.Addr())
		if err != nil {
			return err
		}
		for k, v := range pinfo {
			if strings.HasPrefix(k, "slave") && strings.Contains(v, "port="+strconv.Itoa(r.port)+",") && strings.Contains(v, "state=online") {
				return nil
			}
		}
		return fmt.Errorf("the primary does not count replica %s online yet", r.Addr())
	})
	return r
}

// Addrs are the Sentinels' host:port addresses (store.redis.sentinel_addrs).
func (s *Sentinel) Addrs() []string { return addrsOf(s.Sentinels) }

// addrsOf is the servers' host:port addresses, in order.
func addrsOf(servers []*Server) []string {
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr()
	}
	return addrs
}

// MasterAddrs asks every Sentinel which host:port it holds for the primary;
// a Sentinel that does not answer is left out.
func (s *Sentinel) MasterAddrs(ctx context.Context) []string {
	var out []string
	for _, sn := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), MaxRetries: -1,
			DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond})
		if a, err := c.GetMasterAddrByName(ctx, MasterName).Result(); err == nil && len(a) == 2 {
			out = append(out, net.JoinHostPort(a[0], a[1]))
		}
		c.Close()
	}
	return out
}

// Server returns the primary or replica listening on addr, or nil.
func (s *Sentinel) Server(addr string) *Server {
	for _, n := range append([]*Server{s.Primary}, s.Replicas...) {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

func waitFor(t testing.TB, deadline time.Time, what string, ready func(context.Context) error) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: %s: not within %v: %v", what, readyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// InfoReplication is the replication section of INFO on addr, as fields
// (role, connected_slaves, master_link_status, ...).
func InfoReplication(ctx context.Context, addr string) (map[string]string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	raw, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(raw, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}
