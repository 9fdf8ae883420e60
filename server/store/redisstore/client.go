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
	// DialTimeout, ReadTimeout and WriteTimeout default to 1 s each
	// (go-redis's own default is 5 s): with the retries below, they bound
	// how long a request waits on an unreachable Redis before it fails
	// closed with 503, and so how many requests pile up during an outage.
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// MaxRetries is how many times a failed command is retried (default 1;
	// -1 for none), and DialerRetries how many times a failed dial is
	// (default 1). go-redis's defaults (3 and 5, with backoff) held each
	// request for about 2 s when Redis was down. A retried script whose
	// reply was lost may run twice: a take then errs toward refusing (an
	// extra count), a give-back runs once (its marker, see releaseScript),
	// and a verify that matched answers "no code" the second time.
	MaxRetries    int `yaml:"max_retries"`
	DialerRetries int `yaml:"dialer_retries"`
	// WaitReplicas, above 0, makes each send decision wait (Redis's WAIT)
	// until that many replicas hold it, for at most WaitTimeout (default
	// 100 ms); when fewer do, the send fails closed (503 SYS.0002, no
	// SMS), so that no SMS goes out on a counter a failover could lose.
	// For url and sentinel_* only (see wait.go).
	WaitReplicas int           `yaml:"wait_replicas"`
	WaitTimeout  time.Duration `yaml:"wait_timeout"`
	// AutoPipeline, on unless set to false, sends the store's commands
	// (the send, verify and release scripts above all) that concurrent
	// requests issue at the same moment to Redis together: one write and
	// one read for the lot instead of a round trip each. Each request
	// still gets its own answer, and each script is atomic as before.
	// For url and sentinel_*; cluster_addrs ignores it. go-redis marks
	// the API experimental; false sends each command on its own.
	AutoPipeline *bool `yaml:"auto_pipeline"`
}

// Defaults of the Options that go-redis would otherwise set.
const (
	DefaultTimeout       = time.Second
	DefaultMaxRetries    = 1
	DefaultDialerRetries = 1
)

// withDefaults fills the timeouts and retries left at zero.
func (o Options) withDefaults() Options {
	for _, d := range []*time.Duration{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout} {
		if *d == 0 {
			*d = DefaultTimeout
		}
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = DefaultDialerRetries
	}
	return o
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
	if err := o.validateWait(m); err != nil {
		return 0, err
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
	explicit := o
	o = o.withDefaults()
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
			MaxRetries:    o.MaxRetries,
			DialerRetries: o.DialerRetries,
			TLSConfig:     tlsConfig,
		}), nil
	case modeCluster:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:         o.ClusterAddrs,
			Username:      o.Username,
			Password:      o.Password,
			PoolSize:      o.PoolSize,
			DialTimeout:   o.DialTimeout,
			ReadTimeout:   o.ReadTimeout,
			WriteTimeout:  o.WriteTimeout,
			MaxRetries:    o.MaxRetries,
			DialerRetries: o.DialerRetries,
			TLSConfig:     tlsConfig,
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
	// The URL may set these too (?dial_timeout=3s): an option set in the
	// configuration wins, then the URL's, then our default.
	query := urlQuery(o.URL)
	setOption(&opt.DialTimeout, explicit.DialTimeout, o.DialTimeout, query.Has("dial_timeout"))
	setOption(&opt.ReadTimeout, explicit.ReadTimeout, o.ReadTimeout, query.Has("read_timeout"))
	setOption(&opt.WriteTimeout, explicit.WriteTimeout, o.WriteTimeout, query.Has("write_timeout"))
	setOption(&opt.MaxRetries, explicit.MaxRetries, o.MaxRetries, query.Has("max_retries"))
	setOption(&opt.DialerRetries, explicit.DialerRetries, o.DialerRetries, false) // no URL option
	return redis.NewClient(opt), nil
}

func urlQuery(raw string) url.Values {
	u, err := url.Parse(raw)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// setOption sets *dst to explicit when the configuration set it (non-zero),
// else to def unless the URL set it.
func setOption[T comparable](dst *T, explicit, def T, inURL bool) {
	var zero T
	switch {
	case explicit != zero:
		*dst = explicit
	case !inURL:
		*dst = def
	}
}
