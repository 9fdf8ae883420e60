package redisstore_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/smscode/smscode/server/store/redisstore"
)

// NewClient only builds clients (they connect lazily), so the choice of
// client and its options can be checked without Sentinel or Cluster servers.
func TestNewClientChoosesDeployment(t *testing.T) {
	t.Run("url", func(t *testing.T) {
		c := mustClient(t, redisstore.Options{
			URL:      "redis://olduser:oldpass@cache.internal:6380/2?dial_timeout=3s",
			Password: "fromenv", PoolSize: 7, ReadTimeout: 2 * time.Second,
		})
		o := c.(*redis.Client).Options()
		if o.Addr != "cache.internal:6380" || o.Username != "olduser" || o.Password != "fromenv" ||
			o.DB != 2 || o.PoolSize != 7 || o.DialTimeout != 3*time.Second || o.ReadTimeout != 2*time.Second || o.TLSConfig != nil {
			t.Errorf("options = %+v", o)
		}
	})
	t.Run("rediss is TLS", func(t *testing.T) {
		o := mustClient(t, redisstore.Options{URL: "rediss://cache.example.com", DB: 3}).(*redis.Client).Options()
		if o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example.com" || o.Addr != "cache.example.com:6379" || o.DB != 3 {
			t.Errorf("options = %+v", o)
		}
	})
	t.Run("sentinel", func(t *testing.T) {
		c := mustClient(t, redisstore.Options{SentinelMaster: "mymaster", SentinelAddrs: []string{"s1:26379", "s2:26379"}, DB: 1, TLS: true})
		rc, ok := c.(*redis.Client)
		// A failover client is a *redis.Client whose address is resolved
		// through Sentinel; go-redis marks it with this placeholder.
		if !ok || rc.Options().Addr != "FailoverClient" || rc.Options().DB != 1 || rc.Options().TLSConfig == nil {
			t.Errorf("got %T with %+v, want a failover client", c, rc.Options())
		}
	})
	t.Run("cluster", func(t *testing.T) {
		c := mustClient(t, redisstore.Options{ClusterAddrs: []string{"n1:7000", "n2:7000"}, Password: "p", WriteTimeout: time.Second})
		cc, ok := c.(*redis.ClusterClient)
		if !ok {
			t.Fatalf("got %T, want *redis.ClusterClient", c)
		}
		if o := cc.Options(); strings.Join(o.Addrs, ",") != "n1:7000,n2:7000" || o.Password != "p" || o.WriteTimeout != time.Second {
			t.Errorf("options = %+v", o)
		}
	})
}

func mustClient(t *testing.T, o redisstore.Options) redis.UniversalClient {
	t.Helper()
	c, err := redisstore.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestNewClientRejects(t *testing.T) {
	bad := map[string]redisstore.Options{
		"nothing":                {},
		"url and cluster":        {URL: "redis://a", ClusterAddrs: []string{"b:1"}},
		"url and sentinel":       {URL: "redis://a", SentinelMaster: "m", SentinelAddrs: []string{"s:1"}},
		"sentinel without addrs": {SentinelMaster: "m"},
		"sentinel without name":  {SentinelAddrs: []string{"s:1"}},
		"cluster with db":        {ClusterAddrs: []string{"n:1"}, DB: 1},
		"empty cluster addr":     {ClusterAddrs: []string{""}},
		"tls with url":           {URL: "redis://a", TLS: true},
		"negative db":            {URL: "redis://a", DB: -1},
		"negative pool":          {URL: "redis://a", PoolSize: -1},
		"negative timeout":       {URL: "redis://a", DialTimeout: -time.Second},
		"bad scheme":             {URL: "http://a"},
		"bad db path":            {URL: "redis://a/x"},
	}
	for name, o := range bad {
		if c, err := redisstore.NewClient(o); err == nil {
			_ = c.Close()
			t.Errorf("%s: no error", name)
		}
	}
	// A malformed URL's error must not repeat the password it holds.
	_, err := redisstore.NewClient(redisstore.Options{URL: "redis://u:s3cret@host:port/%zz"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v", err)
	}
}

func TestOptionsFromYAML(t *testing.T) {
	var o redisstore.Options
	err := yaml.Unmarshal([]byte(`
sentinel_master: mymaster
sentinel_addrs: [s1:26379, s2:26379]
password: pw
db: 1
pool_size: 20
dial_timeout: 2s
read_timeout: 500ms
write_timeout: 1s
`), &o)
	if err != nil {
		t.Fatal(err)
	}
	want := redisstore.Options{SentinelMaster: "mymaster", SentinelAddrs: []string{"s1:26379", "s2:26379"}, Password: "pw",
		DB: 1, PoolSize: 20, DialTimeout: 2 * time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: time.Second}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got %+v, want %+v", o, want)
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
}

// An outage must fail fast: one retry of a command and of a dial, 1 s
// timeouts, unless the configuration or the URL says otherwise.
func TestNewClientFailsFastByDefault(t *testing.T) {
	o := mustClient(t, redisstore.Options{URL: "redis://127.0.0.1:6379/0"}).(*redis.Client).Options()
	if o.MaxRetries != 1 || o.DialerRetries != 1 || o.DialTimeout != time.Second || o.ReadTimeout != time.Second {
		t.Errorf("options = %+v", o)
	}
	o = mustClient(t, redisstore.Options{URL: "redis://127.0.0.1:6379/0?max_retries=4", MaxRetries: -1}).(*redis.Client).Options()
	if o.MaxRetries != 0 { // -1 means none; go-redis stores it as 0
		t.Errorf("MaxRetries = %d, want retries off", o.MaxRetries)
	}
	o = mustClient(t, redisstore.Options{URL: "redis://127.0.0.1:6379/0?dial_timeout=3s", DialerRetries: 4}).(*redis.Client).Options()
	if o.DialerRetries != 4 || o.DialTimeout != 3*time.Second {
		t.Errorf("DialerRetries %d, DialTimeout %v: want the configured 4 and the URL's 3s", o.DialerRetries, o.DialTimeout)
	}
}
