package client

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"time"

	"golang.org/x/text/language"
)

// Option configures a Client in New.
type Option func(*settings)

// settings is what options set; New validates it.
type settings struct {
	clientID   string
	tenantID   string
	device     Device
	lang       string
	httpClient *http.Client
	httpSet    bool // WithHTTPClient was given, so nil is a mistake, not "default"
	retry      *RetryPolicy
}

// Device describes the end user's device: the X-operating-sys-version,
// X-device-fingerprint, X-device-ip and X-agent headers of every request.
// OSVersion, Fingerprint and UserAgent are required. Fingerprint keys the
// server's per-device sending limit, so a service acting for many devices
// should pass each one's with ContextWithDevice.
type Device struct {
	// OSVersion is the operating system and version, such as "Android 10":
	// 1 to 64 printable ASCII characters.
	OSVersion string
	// Fingerprint identifies the device: 1 to 128 printable ASCII
	// characters without spaces.
	Fingerprint string
	// IP is the device's IP address as it reports it, recorded for logs;
	// optional. The server never uses it for limits.
	IP string
	// UserAgent is the user agent, 1 to 512 printable ASCII characters.
	UserAgent string
}

// RetryPolicy bounds the waits of WithRetry.
type RetryPolicy struct {
	// MaxWait is the longest Retry-After the client waits; a longer one is
	// returned as the error at once. The default (zero) is 5 seconds.
	MaxWait time.Duration
	// MaxAttempts is the number of requests at most, the first included.
	// The default (zero) is 2: one retry.
	MaxAttempts int
}

// The defaults that RetryPolicy's zero values stand for.
const (
	DefaultRetryMaxWait     = 5 * time.Second
	DefaultRetryMaxAttempts = 2
)

// DefaultTimeout bounds each HTTP request of the default HTTP client. The
// server gives each request 10 seconds (its request_timeout) to reach an SMS
// provider; a little more here lets its own answer arrive first.
const DefaultTimeout = 15 * time.Second

// WithClientID sets X-client-id, the application's ClientId. Required.
func WithClientID(id string) Option { return func(s *settings) { s.clientID = id } }

// WithTenantID sets X-tenant-id, which names the tenant when the client id
// is that of an ISV application template.
func WithTenantID(id string) Option { return func(s *settings) { s.tenantID = id } }

// WithDevice sets the device headers sent with every request. Required;
// ContextWithDevice overrides it for one call.
func WithDevice(d Device) Option { return func(s *settings) { s.device = d } }

// WithLanguage sets X-L, the language of error messages and of the SMS
// text: "zh" for Chinese, "en" for English, a tag with a region such as
// "zh-CN", or an Accept-Language list such as "en-US,zh;q=0.9" (the first
// of zh and en in it is used). Without it, or with a list naming neither,
// the application's default language is used.
func WithLanguage(lang string) Option { return func(s *settings) { s.lang = lang } }

// WithHTTPClient makes the Client send its requests with hc, for a proxy,
// custom TLS or instrumentation. Without it the Client uses its own
// http.Client with DefaultTimeout, never http.DefaultClient, whose
// settings any package in the program may change.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) { s.httpClient, s.httpSet = hc, true }
}

// WithRetry lets the Client repeat a request that the server refused with
// a 429 or 503 smscode error and a Retry-After of at most p.MaxWait: it
// waits that long (or until the context ends) and tries again, up to
// p.MaxAttempts requests in all. On those answers the server has sent
// nothing, so the repeat cannot send a second SMS. Nothing else is ever
// repeated. Without WithRetry each call makes exactly one request.
func WithRetry(p RetryPolicy) Option {
	return func(s *settings) { s.retry = &p }
}

// Header formats, as openapi.yaml defines them; checked in New, so that a
// misconfigured client fails at start-up, not on a user's first request.
var (
	idRE          = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	fingerprintRE = regexp.MustCompile(`^[!-~]{1,128}$`)
	printableRE   = regexp.MustCompile(`^[ -~]+$`)
	languageRE    = regexp.MustCompile(`^[A-Za-z0-9*_ ,;=.-]{0,200}$`)
	requestIDRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// validate returns every problem with s, joined, or nil.
func (s *settings) validate() error {
	var errs []error
	if !idRE.MatchString(s.clientID) {
		errs = append(errs, fmt.Errorf("client id %q: want 1 to 64 letters, digits, '-' or '_' (WithClientID is required)", s.clientID))
	}
	if s.tenantID != "" && !idRE.MatchString(s.tenantID) {
		errs = append(errs, fmt.Errorf("tenant id %q: want 1 to 64 letters, digits, '-' or '_'", s.tenantID))
	}
	if err := s.device.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := validateLanguage(s.lang); err != nil {
		errs = append(errs, err)
	}
	if s.httpSet && s.httpClient == nil {
		errs = append(errs, errors.New("WithHTTPClient(nil)"))
	}
	if p := s.retry; p != nil && (p.MaxWait < 0 || p.MaxAttempts < 0) {
		errs = append(errs, fmt.Errorf("retry policy %+v: negative values", *p))
	}
	return errors.Join(errs...)
}

// validate checks d against the header formats of the spec.
func (d Device) validate() error {
	var errs []error
	if len(d.OSVersion) > 64 || !printableRE.MatchString(d.OSVersion) {
		errs = append(errs, fmt.Errorf("device OS version %q: want 1 to 64 printable ASCII characters (required)", d.OSVersion))
	}
	if !fingerprintRE.MatchString(d.Fingerprint) {
		errs = append(errs, fmt.Errorf("device fingerprint %q: want 1 to 128 printable ASCII characters without spaces (required)", d.Fingerprint))
	}
	if len(d.UserAgent) > 512 || !printableRE.MatchString(d.UserAgent) {
		errs = append(errs, fmt.Errorf("device user agent %q: want 1 to 512 printable ASCII characters (required)", d.UserAgent))
	}
	if d.IP != "" {
		// A zone ("fe80::1%eth0") is a valid netip.Addr but not in the
		// spec's pattern, and means nothing to the server anyway.
		if a, err := netip.ParseAddr(d.IP); err != nil || a.Zone() != "" {
			errs = append(errs, fmt.Errorf("device IP %q: not an IPv4 or IPv6 address", d.IP))
		}
	}
	return errors.Join(errs...)
}

// validateLanguage checks lang as the server does: the spec's pattern and
// length, then that it parses as a language list.
func validateLanguage(lang string) error {
	if lang == "" {
		return nil
	}
	if !languageRE.MatchString(lang) {
		return fmt.Errorf("language %q: want a tag such as zh or en-US, or a list such as en-US,zh;q=0.9 (at most 200 characters)", lang)
	}
	if _, _, err := language.ParseAcceptLanguage(lang); err != nil {
		return fmt.Errorf("language %q: want a tag such as zh or en-US, or a list such as en-US,zh;q=0.9: %w", lang, err)
	}
	return nil
}

// withDefaults returns p with its defaults filled in.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxWait == 0 {
		p.MaxWait = DefaultRetryMaxWait
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultRetryMaxAttempts
	}
	return p
}
