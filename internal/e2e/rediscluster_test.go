package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/internal/redistest"
)

// Limits of the Redis Cluster tests: the defaults for a device and an
// address (the store.redis cluster path must keep them exact), the others
// as the harness sets them.
const (
	clusterDeviceLimit = 20
	clusterIPLimit     = 50
)

// Two instances on a real 3-master Redis Cluster (store.redis.cluster_addrs)
// whose key layout spreads one application's keys over the slots: every
// limit stays exact across instances, a refusal by one limit leaves the
// others uncharged, and 2,000 sends of one application put at most 45 % of
// the keys and of the commands on any one master.
func TestRedisCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3) // skips without redis-server
	c := &cluster{}
	yaml := "cluster_addrs: [" + strings.Join(rc.Addrs(), ", ") + "]"
	c.startNodes(t, 2, 0, func() string {
		cfg := c.configFor(yaml)
		cfg = strings.Replace(cfg, "device_per_hour: 100000", "device_per_hour: "+strconv.Itoa(clusterDeviceLimit), 1)
		cfg = strings.Replace(cfg, "ip_per_hour: 100000", "ip_per_hour: "+strconv.Itoa(clusterIPLimit), 1)
		// Each request names its client address in X-Forwarded-For, so
		// that a test chooses which sends share an address.
		return cfg + "http:\n  trusted_proxies: [127.0.0.1]\n"
	})
	cl := &clusterRun{c: c}

	t.Run("one number", func(t *testing.T) {
		// 200 sends for one number from 200 devices and addresses.
		counts := cl.burst(t, 200, func(i int) clusterSend {
			return clusterSend{mobile: "13700000000", device: fmt.Sprint("num-dev-", i), ip: ipOf(1, i)}
		})
		wantCounts(t, counts, map[outcome]int{{http.StatusOK, ""}: 1, {http.StatusTooManyRequests, "SMS.0001"}: 199})
		if got := len(c.gw.to(e164("13700000000"))); got != 1 {
			t.Errorf("gateway got %d messages for the number, want exactly 1", got)
		}
	})
	t.Run("one device", func(t *testing.T) {
		counts := cl.burst(t, 200, func(i int) clusterSend {
			return clusterSend{mobile: fmt.Sprintf("1370001%04d", i), device: "one-device", ip: ipOf(2, i)}
		})
		wantCounts(t, counts, map[outcome]int{{http.StatusOK, ""}: clusterDeviceLimit, {http.StatusTooManyRequests, "SMS.0003"}: 200 - clusterDeviceLimit})
	})
	t.Run("one address", func(t *testing.T) {
		counts := cl.burst(t, 200, func(i int) clusterSend {
			return clusterSend{mobile: fmt.Sprintf("1370002%04d", i), device: fmt.Sprint("ip-dev-", i), ip: "10.3.0.1"}
		})
		wantCounts(t, counts, map[outcome]int{{http.StatusOK, ""}: clusterIPLimit, {http.StatusTooManyRequests, "SMS.0004"}: 200 - clusterIPLimit})
	})
	t.Run("refusal charges no other limit", func(t *testing.T) {
		// The device is used up; a send from it to a fresh number and a
		// fresh address is refused by the device limit, which must give
		// back what the number's and the address's limits took: the
		// number can be sent to at once from another device, and the
		// address still has its whole budget but the one send below.
		for i := range clusterDeviceLimit {
			want(t, "send from the device", cl.send(t, c.nodes[i%2], clusterSend{mobile: fmt.Sprintf("1370003%04d", i),
				device: "spent-device", ip: ipOf(4, i)}), http.StatusOK, "")
		}
		const mobile, ip = "13700039999", "10.5.0.1"
		want(t, "send from the spent device", cl.send(t, c.nodes[0], clusterSend{mobile: mobile, device: "spent-device", ip: ip}),
			http.StatusTooManyRequests, "SMS.0003")
		want(t, "the same number from another device, at once", cl.send(t, c.nodes[1], clusterSend{mobile: mobile, device: "fresh-device", ip: ip}),
			http.StatusOK, "")
		for i := range clusterIPLimit - 1 {
			want(t, "the same address", cl.send(t, c.nodes[i%2], clusterSend{mobile: fmt.Sprintf("1370005%04d", i),
				device: fmt.Sprint("addr-dev-", i), ip: ip}), http.StatusOK, "")
		}
		want(t, "the address's 51st send", cl.send(t, c.nodes[0], clusterSend{mobile: "13700059999", device: "addr-dev-last", ip: ip}),
			http.StatusTooManyRequests, "SMS.0004")
	})
	t.Run("spread", func(t *testing.T) {
		const n = 2000
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		before := masterStats(ctx, t, rc)
		counts := cl.burst(t, n, func(i int) clusterSend {
			return clusterSend{mobile: fmt.Sprintf("1380000%04d", i), device: fmt.Sprint("spread-dev-", i), ip: ipOf(6+i/250, i%250)}
		})
		wantCounts(t, counts, map[outcome]int{{http.StatusOK, ""}: n})
		after := masterStats(ctx, t, rc)
		var keys, cmds []int64
		for i := range after {
			keys = append(keys, after[i].keys-before[i].keys)
			cmds = append(cmds, after[i].calls-before[i].calls)
		}
		kShare, cShare := maxShare(keys), maxShare(cmds)
		t.Logf("%d sends of one app on 3 masters: keys per master %v (largest share %.1f%%), commands per master %v (largest share %.1f%%, %.1f commands a send)",
			n, keys, 100*kShare, cmds, 100*cShare, float64(sum(cmds))/n)
		fmt.Printf("e2e: redis cluster spread: %d sends, keys per master %v (max %.1f%%), commands per master %v (max %.1f%%)\n",
			n, keys, 100*kShare, cmds, 100*cShare)
		if kShare > 0.45 || cShare > 0.45 {
			t.Errorf("one master holds %.1f%% of the keys and took %.1f%% of the commands, want at most 45%% each", 100*kShare, 100*cShare)
		}
	})
}

// clusterRun sends through the instances of TestRedisCluster.
type clusterRun struct{ c *cluster }

// clusterSend is one send: its number, device and client address.
type clusterSend struct{ mobile, device, ip string }

func (cl *clusterRun) trySend(ctx context.Context, in *instance, s clusterSend) (reply, error) {
	h := headers(loadApp, s.device)
	h.Set("X-Forwarded-For", s.ip)
	return post(ctx, in.url+"/api/v2/sdk/sms/send", h,
		map[string]string{"mobile": s.mobile, "type": "LOGIN_SMS", "captcha_token": "any-token"})
}

func (cl *clusterRun) send(t *testing.T, in *instance, s clusterSend) reply {
	t.Helper()
	r, err := cl.trySend(context.Background(), in, s)
	if err != nil {
		t.Fatalf("send %+v via %s: %v", s, in.name, err)
	}
	return r
}

// burst sends n requests (the i-th is req(i)), alternating between the
// instances, 32 at a time, all released at once, each bounded by
// burstTimeout, and counts the answers.
func (cl *clusterRun) burst(t *testing.T, n int, req func(i int) clusterSend) map[outcome]int {
	t.Helper()
	shots, took := cl.c.burst(t, n, 32, func(ctx context.Context, in *instance, i int) (reply, error) {
		return cl.trySend(ctx, in, req(i))
	})
	counts := tally(t, shots)
	t.Logf("%d sends answered in %v: %v", n, took.Round(time.Millisecond), counts)
	return counts
}

func wantCounts(t *testing.T, got, want map[outcome]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answers %v, want %v", got, want)
	}
}

// ipOf is a client address of its own for block and i (< 250 each).
func ipOf(block, i int) string { return fmt.Sprintf("10.%d.%d.%d", 100+block/250, block%250, 1+i%250) }

// nodeStats is a master's key count and the commands it has run.
type nodeStats struct{ keys, calls int64 }

// masterStats reads DBSIZE and INFO commandstats of every master, in the
// order of rc.Masters. Calls are summed over every command but those of the
// cluster client's own upkeep and of this reading (cluster, info, ping,
// command, dbsize), so that they count the store's work: each script call
// and the commands it runs.
func masterStats(ctx context.Context, t *testing.T, rc *redistest.Cluster) []nodeStats {
	t.Helper()
	out := make([]nodeStats, len(rc.Masters))
	for i, m := range rc.Masters {
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		n, err := rdb.DBSize(ctx).Result()
		if err != nil {
			t.Fatalf("DBSIZE on %s: %v", m.Addr(), err)
		}
		info, err := rdb.Info(ctx, "commandstats").Result()
		_ = rdb.Close()
		if err != nil {
			t.Fatalf("INFO commandstats on %s: %v", m.Addr(), err)
		}
		out[i].keys = n
		for line := range strings.SplitSeq(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
			name, isCmd := strings.CutPrefix(name, "cmdstat_")
			if !ok || !isCmd || slices.Contains([]string{"cluster", "info", "ping", "command", "dbsize", "hello", "client", "readonly"}, strings.Split(name, "|")[0]) {
				continue
			}
			calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
			v, err := strconv.ParseInt(calls, 10, 64)
			if err != nil {
				t.Fatalf("INFO commandstats on %s: %q: %v", m.Addr(), line, err)
			}
			out[i].calls += v
		}
	}
	return out
}

func sum(v []int64) (s int64) {
	for _, x := range v {
		s += x
	}
	return s
}

// maxShare is the largest element's share of the sum.
func maxShare(v []int64) float64 {
	if s := sum(v); s > 0 {
		return float64(slices.Max(v)) / float64(s)
	}
	return 1
}
