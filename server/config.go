package server

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Config is the HTTP layer's configuration. A zero value of any field means
// the default stated on it, so Config{} is a working configuration.
type Config struct {
	// BodyLimit is the largest request body accepted, in bytes; a larger
	// one is answered 413 REQ.0002. Default 8 KiB (8192).
	BodyLimit int64 `yaml:"body_limit"`
	// ReceiptBodyLimit is BodyLimit for the delivery receipts that SMS
	// gateways post (Alibaba Cloud pushes them in batches). Default 64 KiB.
	ReceiptBodyLimit int64 `yaml:"receipt_body_limit"`
	// MaxHeaderBytes is the largest size of the request line and headers
	// accepted, in bytes; more is answered 431 HEADER.0006. Default 16 KiB
	// (16384). The http.Server from HTTPServer allows twice as much, so that
	// this server, not Go's, answers with the JSON error body.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ReadHeaderTimeout bounds reading the request headers. Default 5s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading the whole request. Default 10s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response. Default 15s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for the
	// next request. Default 60s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// RequestTimeout is the deadline put on each request's context, which
	// the Service sees. Default 10s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// TrustedProxies lists the proxies (CIDRs such as "10.0.0.0/8", or
	// single addresses) whose X-Forwarded-For hop is trusted for the client
	// address. Default empty: X-Forwarded-For is ignored and the client
	// address is the connection's.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// DevMode logs why each request was refused (which header or field and
	// which schema rule, never the value) at info level rather than debug,
	// to help while integrating a client. Default false. It changes no
	// answer: error bodies are the same in both modes.
	DevMode bool `yaml:"dev_mode"`
	// MetricsElsewhere leaves /metrics off the API's routes (a GET is then
	// 404 REQ.0005), for a deployment that serves it on its own listener
	// (Server.MetricsHTTPServer; config's metrics_addr sets it). Default
	// false: /metrics is served with the API.
	MetricsElsewhere bool `yaml:"-"`
	// TracerProvider records a server span per request (package tracing's
	// Middleware), when it is not nil and not a no-op provider. Default
	// nil: no tracing, nothing on the request path.
	TracerProvider trace.TracerProvider `yaml:"-"`
}

// The defaults that Config's zero values stand for.
const (
	DefaultBodyLimit         int64 = 8 << 10
	DefaultReceiptBodyLimit  int64 = 64 << 10
	DefaultMaxHeaderBytes          = 16 << 10
	DefaultReadHeaderTimeout       = 5 * time.Second
	DefaultReadTimeout             = 10 * time.Second
	DefaultWriteTimeout            = 15 * time.Second
	DefaultIdleTimeout             = 60 * time.Second
	DefaultRequestTimeout          = 10 * time.Second
)

// withDefaults returns cfg with its zero values replaced by the defaults,
// or an error naming the first field that is negative.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.BodyLimit < 0 || cfg.MaxHeaderBytes < 0 || cfg.ReceiptBodyLimit < 0 {
		return cfg, fmt.Errorf("server: body_limit, receipt_body_limit and max_header_bytes must not be negative")
	}
	for name, d := range map[string]time.Duration{
		"read_header_timeout": cfg.ReadHeaderTimeout, "read_timeout": cfg.ReadTimeout,
		"write_timeout": cfg.WriteTimeout, "idle_timeout": cfg.IdleTimeout,
		"request_timeout": cfg.RequestTimeout,
	} {
		if d < 0 {
			return cfg, fmt.Errorf("server: %s must not be negative", name)
		}
	}
	setDefault(&cfg.BodyLimit, DefaultBodyLimit)
	setDefault(&cfg.ReceiptBodyLimit, DefaultReceiptBodyLimit)
	setDefault(&cfg.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&cfg.ReadTimeout, DefaultReadTimeout)
	setDefault(&cfg.WriteTimeout, DefaultWriteTimeout)
	setDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	setDefault(&cfg.RequestTimeout, DefaultRequestTimeout)
	return cfg, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// parseProxies turns TrustedProxies into the ranges Echo's IP extractor
// takes. A bare address is a range of one.
func parseProxies(list []string) ([]*net.IPNet, error) {
	out := make([]*net.IPNet, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("server: trusted_proxies: %q is neither a CIDR nor an IP address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		p = p.Masked()
		out = append(out, &net.IPNet{
			IP:   net.IP(p.Addr().AsSlice()),
			Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
		})
	}
	return out, nil
}
