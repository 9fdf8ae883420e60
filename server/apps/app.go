// Package apps is the registry of the applications allowed to ask for codes:
// each is named by its client id (X-client-id) and, for ISV applications, its
// tenant id (X-tenant-id), and carries what differs per application: the
// scenarios it may use, its phone policy, language, SMS signature and
// templates, code settings, limit overrides, captcha and SMS providers.
//
// Applications come from configuration (YAML, snake_case keys). NewRegistry
// validates them all once at start-up, so that a request never meets a
// half-valid application; Lookup answers the API errors APP.0001 and APP.0003.
package apps

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/phone"
)

// App is one registered application. The zero value of every optional field
// means "inherit": the server default, or the built-in one stated on the
// field.
type App struct {
	// ClientID is the application's X-client-id: 1 to 64 of A-Z a-z 0-9 _ -.
	ClientID string `yaml:"client_id"`
	// TenantID, for an ISV application, is the X-tenant-id it is called
	// with (then ClientID is the ISV template's client id); same syntax as
	// ClientID. Empty: the application is called without X-tenant-id.
	TenantID string `yaml:"tenant_id"`
	// Name is a label for logs and metrics.
	Name string `yaml:"name"`
	// Disabled refuses the application's requests with APP.0003. A flag
	// that says "disabled", rather than an "enabled" one, keeps the zero
	// value (a key left out of the YAML) meaning enabled.
	Disabled bool `yaml:"disabled"`
	// Scenarios the application may send codes for; empty: all six.
	Scenarios []gen.Scenario `yaml:"scenarios"`
	// Phone is the policy mobile numbers are checked against; the zero
	// value is the OneAccess-compatible default (see phone.Policy).
	Phone phone.Policy `yaml:"phone"`
	// PreferredRegion is the region whose calling code the country-codes
	// API offers first (ISO 3166, such as "CN"); empty: "CN", as OneAccess.
	PreferredRegion string `yaml:"preferred_region"`
	// DefaultLang is the message language when the request's X-L is absent
	// or neither Chinese nor English: "zh" or "en"; empty: the server's.
	DefaultLang string `yaml:"default_lang"`
	// Signature is the SMS sender signature put before the text, such as
	// "【OneAccess】"; empty: the server's.
	Signature string `yaml:"signature"`
	// Templates overrides the message text per language ("zh", "en") and
	// scenario. Each text must contain "{code}".
	Templates map[string]map[gen.Scenario]string `yaml:"templates"`
	// Code sets length, lifetime and attempts of codes (see CodeFor).
	Code CodeSettings `yaml:"code"`
	// Limits overrides the server's send limits for this application.
	Limits LimitOverrides `yaml:"limits"`
	// AutoBlock overrides the server's learning pumping defence
	// (pumping.auto_block) for this application.
	AutoBlock AutoBlock `yaml:"auto_block"`
	// Captcha sets how captcha_token is checked.
	Captcha CaptchaSettings `yaml:"captcha"`
	// Providers names the SMS providers to try, in failover order; empty:
	// the server's default order. The server checks that the names exist.
	Providers []string `yaml:"providers"`
	// TestNumbers are fictional numbers with a fixed code, for development
	// and automated tests (as Firebase's test phone numbers): a send to one
	// goes through validation and the captcha check, then answers as sent,
	// but no SMS goes out, no limit is charged and nothing is stored; the
	// listed code, and only it, verifies, as often as asked. Keys are
	// numbers as a request sends them (checked and normalised under Phone),
	// values 4 to 10 digits. Any application listing them makes the
	// registry DevOnly.
	TestNumbers map[string]string `yaml:"test_numbers"`

	// testCodes is TestNumbers keyed by E.164, built by the registry.
	testCodes map[string]string
}

// Built-in code settings, used where neither the scenario nor the
// application sets a value: 6 digits, 5 minutes, 5 wrong attempts, as most
// SMS-code systems do.
const (
	DefaultCodeLength  = 6
	DefaultCodeTTL     = 5 * time.Minute
	DefaultMaxAttempts = 5
)

// CodeSettings sets the codes of an application or of one of its scenarios.
// A zero field inherits.
type CodeSettings struct {
	// Length is the number of digits, 4 to 10.
	Length int `yaml:"length"`
	// TTL is how long a code stays valid, 30s to 24h.
	TTL time.Duration `yaml:"ttl"`
	// MaxAttempts is how many wrong codes one client IP, and one device,
	// may try for a number per day, across codes and scenarios (and at one
	// code), 1 to 100.
	MaxAttempts int `yaml:"max_attempts"`
	// PerScenario overrides the settings above for some scenarios. Only
	// allowed at application level: a scenario's settings have none.
	PerScenario map[gen.Scenario]CodeSettings `yaml:"per_scenario,omitempty"`
}

// over returns s with its zero fields taken from base; PerScenario is
// dropped.
func (s CodeSettings) over(base CodeSettings) CodeSettings {
	return CodeSettings{
		Length:      cmp.Or(s.Length, base.Length),
		TTL:         cmp.Or(s.TTL, base.TTL),
		MaxAttempts: cmp.Or(s.MaxAttempts, base.MaxAttempts),
	}
}

// LimitOverrides overrides the server's send limits. A zero field inherits
// the server's value; there is no way to switch a limit off per
// application, on purpose.
type LimitOverrides struct {
	// NumberCooldown is the least time between two sends to one number for
	// one scenario (1s to 24h).
	NumberCooldown time.Duration `yaml:"number_cooldown"`
	// NumberDaily is how many codes one number may receive in 24 hours.
	NumberDaily int64 `yaml:"number_daily"`
	// DevicePerHour is how many sends one device fingerprint may ask for
	// in an hour.
	DevicePerHour int64 `yaml:"device_per_hour"`
	// IPPerHour is how many sends one client address may ask for in an
	// hour.
	IPPerHour int64 `yaml:"ip_per_hour"`
	// AppDaily is how many codes the application may send in 24 hours.
	AppDaily int64 `yaml:"app_daily"`

	// VerifyIPPerHour is how many failed verifications (wrong code, none
	// pending, code dead) one client address may make in an hour.
	VerifyIPPerHour int64 `yaml:"verify_ip_per_hour"`
	// VerifyDevicePerHour is the same per device fingerprint.
	VerifyDevicePerHour int64 `yaml:"verify_device_per_hour"`
	// VerifyNumberDaily is how many wrong codes may be tried for one
	// number in 24 hours, across codes, scenarios, addresses and devices:
	// the bound on guessing a number's codes.
	VerifyNumberDaily int64 `yaml:"verify_number_daily"`
}

// Over returns l with its zero fields taken from base: the server keeps its
// defaults in a LimitOverrides and calls app.Limits.Over(defaults).
func (l LimitOverrides) Over(base LimitOverrides) LimitOverrides {
	return LimitOverrides{
		NumberCooldown: cmp.Or(l.NumberCooldown, base.NumberCooldown),
		NumberDaily:    cmp.Or(l.NumberDaily, base.NumberDaily),
		DevicePerHour:  cmp.Or(l.DevicePerHour, base.DevicePerHour),
		IPPerHour:      cmp.Or(l.IPPerHour, base.IPPerHour),
		AppDaily:       cmp.Or(l.AppDaily, base.AppDaily),

		VerifyIPPerHour:     cmp.Or(l.VerifyIPPerHour, base.VerifyIPPerHour),
		VerifyDevicePerHour: cmp.Or(l.VerifyDevicePerHour, base.VerifyDevicePerHour),
		VerifyNumberDaily:   cmp.Or(l.VerifyNumberDaily, base.VerifyNumberDaily),
	}
}

// Captcha kinds: how an application's captcha_token is checked.
const (
	// CaptchaDefault (empty) uses the server's default kind.
	CaptchaDefault = ""
	// CaptchaTurnstile verifies Cloudflare Turnstile tokens (needs Secret).
	CaptchaTurnstile = "turnstile"
	// CaptchaHCaptcha verifies hCaptcha tokens (needs Secret).
	CaptchaHCaptcha = "hcaptcha"
	// CaptchaSlider verifies tokens of the built-in slider puzzle, the
	// OneAccess captcha.
	CaptchaSlider = "slider"
	// CaptchaAltcha verifies solutions of the built-in proof-of-work
	// challenges in the ALTCHA widget's format (server/captcha/altcha).
	CaptchaAltcha = "altcha"
	// CaptchaNone accepts any token: for applications that check humans
	// themselves before calling, and for load tests.
	CaptchaNone = "none"
)

// CaptchaSettings sets how an application's captcha tokens are checked.
type CaptchaSettings struct {
	// Kind is one of the Captcha* constants.
	Kind string `yaml:"kind"`
	// Secret is the Turnstile or hCaptcha secret key.
	Secret string `yaml:"secret"`
	// VerifyURL overrides the siteverify endpoint of Turnstile or hCaptcha
	// (an absolute http or https URL), for a proxy or a test server.
	VerifyURL string `yaml:"verify_url"`
	// TestTokens are tokens accepted as they are, for development and
	// tests: any application listing them makes the registry DevOnly.
	TestTokens []string `yaml:"test_tokens"`
	// MaxNumber is the difficulty of the altcha kind's challenges: a
	// solver tries MaxNumber/2 SHA-256 hashes on average. 1,000 to
	// 100,000,000; 0: 100,000 (altcha.DefaultMaxNumber). Only for altcha.
	MaxNumber int64 `yaml:"max_number"`
}

// String describes the settings without the secret, so that an App printed
// with %v leaks no key.
func (c CaptchaSettings) String() string {
	secret := ""
	if c.Secret != "" {
		secret = "[redacted]"
	}
	return "{kind:" + c.Kind + " secret:" + secret + " verify_url:" + c.VerifyURL +
		" test_tokens:" + strconv.Itoa(len(c.TestTokens)) + " max_number:" + strconv.FormatInt(c.MaxNumber, 10) + "}"
}

// Allows reports whether the application may send codes for scenario s.
func (a *App) Allows(s gen.Scenario) bool {
	return s.Valid() && (len(a.Scenarios) == 0 || slices.Contains(a.Scenarios, s))
}

// CodeFor returns the code settings for scenario s: the scenario's own
// settings, then the application's, then the built-in defaults, field by
// field. The result has no PerScenario.
func (a *App) CodeFor(s gen.Scenario) CodeSettings {
	defaults := CodeSettings{Length: DefaultCodeLength, TTL: DefaultCodeTTL, MaxAttempts: DefaultMaxAttempts}
	return a.Code.PerScenario[s].over(a.Code.over(defaults))
}

// Template returns the application's text for language lang and scenario
// s, if it overrides the server's.
func (a *App) Template(lang string, s gen.Scenario) (string, bool) {
	t, ok := a.Templates[lang][s]
	return t, ok
}

// Scope is a stable id of the application for store keys and metrics (see
// the function Scope).
func (a *App) Scope() string { return Scope(a.ClientID, a.TenantID) }

// Scope is the id of the application (clientID, tenantID) in store keys:
// "client/tenant", or "client" for an application without tenant. Ids hold
// no "/" or braces, so scopes never collide and never break a Redis Cluster
// hash tag they are put in. Every key of one application starts its hash
// tag with it, so that two applications never share a key.
func Scope(clientID, tenantID string) string {
	if tenantID == "" {
		return clientID
	}
	return clientID + "/" + tenantID
}

// Tag is the Redis Cluster hash tag of scope's application-wide store
// keys: the scope in braces (the captcha, slider and altcha keys, the daily
// count). The sender's per-number, per-device, per-address and per-prefix
// keys put their entity inside it ("{scope:n:<id>}", see the sender's
// entityKey), so that one application's keys spread over a cluster's
// slots. It is the one place that spells the tag; key builders start with
// it.
func Tag(scope string) string { return "{" + scope + "}" }

// Tag is the hash tag of the application's store keys (see the function
// Tag).
func (a *App) Tag() string { return Tag(a.Scope()) }

// Preferred is the application's preferred region: PreferredRegion, or
// "CN" when unset.
func (a *App) Preferred() string {
	if a.PreferredRegion == "" {
		return "CN"
	}
	return a.PreferredRegion
}

// DevOnly reports whether the application lists captcha test tokens or
// test numbers, which the server accepts only in development mode.
func (a *App) DevOnly() bool { return len(a.Captcha.TestTokens) > 0 || len(a.TestNumbers) > 0 }

// TestCode returns the fixed code of e164 when it is one of the
// application's test numbers.
func (a *App) TestCode(e164 string) (string, bool) {
	code, ok := a.testCodes[e164]
	return code, ok
}
