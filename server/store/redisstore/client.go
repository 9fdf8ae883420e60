package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options says how to reach Redis, in one of three ways: URL for a single
// server, SentinelMaster with SentinelAddrs for a Sentinel-managed primary,
// or ClusterAddrs for a Redis Cluster. Zero fields take go-redis's defaults.
type Options struct {
	// URL is redis://[user:password@]host:port[/db] for a single server;
	// rediss:// is the same over TLS. Query parameters go-redis knows
	// (e.g. ?dial_timeout=3s) are accepted; the fields below override them.
	URL string `yaml:"url"`
	// SentinelMaster is the name Sentinel knows the primary by, and
	// SentinelAddrs the Sentinels' host:port addresses.
	SentinelMaster string   `yaml:"sentinel_master"`
	SentinelAddrs  []string `yaml:"sentinel_addrs"`
	// ClusterAddrs are host:port addresses of some of the cluster's nodes;
	// the rest are discovered.
	ClusterAddrs []string `yaml:"cluster_addrs"`
	// TLS turns on TLS for Sentinel and Cluster connections (a URL says so
	// with rediss:// instead). Certificates are checked against the system
	// roots.
	TLS bool `yaml:"tls"`
	// Username and Password authenticate (ACL user, or Password alone for
	// requirepass). They override a URL's.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// DB selects a database; not for Cluster, which has only database 0.
	DB int `yaml:"db"`
	// PoolSize is the connections per node. The default is 10 per CPU.
	PoolSize int `yaml:"pool_size"`
	// DialTimeout, ReadTimeout and WriteTimeout default to 5 s each. They
	// bound how long a request waits on an unreachable Redis before it
	// fails closed.
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

// mode is which kind of deployment Options describe.
type mode int

const (
	modeSingle mode = iota + 1
	modeSentinel
	modeCluster
)

// Validate reports whether o names exactly one way to reach Redis, with
// the fields that way needs and no negative sizes or timeouts.
func (o Options) Validate() error {
	_, err := o.mode()
	return err
}

func (o Options) mode() (mode, error) {
	var m mode
	n := 0
	if o.URL != "" {
		m, n = modeSingle, n+1
	}
	if o.SentinelMaster != "" || len(o.SentinelAddrs) > 0 {
		m, n = modeSentinel, n+1
	}
	if len(o.ClusterAddrs) > 0 {
		m, n = modeCluster, n+1
	}
	switch {
	case n == 0:
		return 0, errors.New("redis: set one of url, sentinel_master with sentinel_addrs, or cluster_addrs")
	case n > 1:
		return 0, errors.New("redis: url, sentinel_* and cluster_addrs are alternatives; set only one")
	case m == modeSentinel && (o.SentinelMaster == "" || len(o.SentinelAddrs) == 0):
		return 0, errors.New("redis: sentinel needs both sentinel_master and sentinel_addrs")
	case m == modeCluster && o.DB != 0:
		return 0, errors.New("redis: a cluster has only db 0")
	case m == modeSingle && o.TLS:
		return 0, errors.New("redis: with url, ask for TLS with the rediss:// scheme, not tls")
	case o.DB < 0 || o.PoolSize < 0:
		return 0, errors.New("redis: db and pool_size must not be negative")
	case o.DialTimeout < 0 || o.ReadTimeout < 0 || o.WriteTimeout < 0:
		return 0, errors.New("redis: timeouts must not be negative")
	}
	for _, a := range append(append([]string(nil), o.SentinelAddrs...), o.ClusterAddrs...) {
		if a == "" {
			return 0, errors.New("redis: empty address in sentinel_addrs or cluster_addrs")
		}
	}
	return m, nil
}

// NewClient builds the client o describes: a *redis.Client for a URL or
// Sentinel (a failover client, which follows the primary), a
// *redis.ClusterClient for a cluster. It does not connect; the first command
// (e.g. Store.Ping) does.
func NewClient(o Options) (redis.UniversalClient, error) {
	m, err := o.mode()
	if err != nil {
		return nil, err
	}
	var tlsConfig *tls.Config
	if o.TLS {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch m {
	case modeSentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:    o.SentinelMaster,
			SentinelAddrs: o.SentinelAddrs,
			Username:      o.Username,
			Password:      o.Password,
			DB:            o.DB,
			PoolSize:      o.PoolSize,
			DialTimeout:   o.DialTimeout,
			ReadTimeout:   o.ReadTimeout,
			WriteTimeout:  o.WriteTimeout,
			TLSConfig:     tlsConfig,
		}), nil
	case modeCluster:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:        o.ClusterAddrs,
			Username:     o.Username,
			Password:     o.Password,
			PoolSize:     o.PoolSize,
			DialTimeout:  o.DialTimeout,
			ReadTimeout:  o.ReadTimeout,
			WriteTimeout: o.WriteTimeout,
			TLSConfig:    tlsConfig,
		}), nil
	}
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		// A *url.Error quotes the URL, which may hold a password: keep
		// only its cause.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis: url: %w", err)
	}
	if o.Username != "" {
		opt.Username = o.Username
	}
	if o.Password != "" {
		opt.Password = o.Password
	}
	if o.DB != 0 {
		opt.DB = o.DB
	}
	if o.PoolSize != 0 {
		opt.PoolSize = o.PoolSize
	}
	if o.DialTimeout != 0 {
		opt.DialTimeout = o.DialTimeout
	}
	if o.ReadTimeout != 0 {
		opt.ReadTimeout = o.ReadTimeout
	}
	if o.WriteTimeout != 0 {
		opt.WriteTimeout = o.WriteTimeout
	}
	return redis.NewClient(opt), nil
}
