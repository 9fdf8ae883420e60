package apps

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/phone"
)

// Bounds checked by NewRegistry.
const (
	maxIDLen        = 64
	minCodeLength   = 4
	maxCodeLength   = 10
	minTTL          = 30 * time.Second
	maxTTL          = 24 * time.Hour
	maxMaxAttempts  = 100
	minCooldown     = time.Second
	maxCooldown     = 24 * time.Hour
	maxTokenLen     = 2048 // the spec's maxLength of captcha_token
	codePlaceholder = "{code}"
	// The altcha difficulty's bounds, altcha.MinMaxNumber..MaxMaxNumber
	// (that package imports this one, so they are repeated here).
	minAltchaMax = 1_000
	maxAltchaMax = 100_000_000
)

// validID reports whether s matches ^[A-Za-z0-9_-]{1,64}$: the characters
// keep ids safe in store keys, hash tags and log lines.
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validate returns every problem of one application, each naming its YAML
// field, so that a configuration is fixed in one pass. It also indexes the
// test numbers it checks (testCodes): the registry calls it on its own copy.
func (a *App) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !validID(a.ClientID) {
		add("client_id %q must be 1 to 64 of A-Z a-z 0-9 _ -", a.ClientID)
	}
	if a.TenantID != "" && !validID(a.TenantID) {
		add("tenant_id %q must be 1 to 64 of A-Z a-z 0-9 _ -", a.TenantID)
	}
	for _, s := range a.Scenarios {
		if !s.Valid() {
			add("scenarios: unknown scenario %q", s)
		}
	}
	if err := a.Phone.Validate(); err != nil {
		add("phone: %w", err)
	}
	if a.PreferredRegion != "" && phone.CallingCodeOf(a.PreferredRegion) == "" {
		add("preferred_region %q is not a region code such as CN", a.PreferredRegion)
	}
	if a.DefaultLang != "" && !knownLang(a.DefaultLang) {
		add(`default_lang %q must be "zh" or "en"`, a.DefaultLang)
	}
	errs = append(errs, validateTemplates(a.Templates)...)
	errs = append(errs, validateCode("code", a.Code, true)...)
	errs = append(errs, validateLimits(a.Limits)...)
	if err := a.AutoBlock.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateCaptcha(a.Captcha)...)
	errs = append(errs, a.indexTestNumbers()...)
	seen := map[string]bool{}
	for _, p := range a.Providers {
		switch {
		case strings.TrimSpace(p) == "":
			add("providers: empty provider name")
		case seen[p]:
			add("providers: %q listed twice", p)
		}
		seen[p] = true
	}
	return errs
}

// indexTestNumbers checks TestNumbers and keys them by E.164 in testCodes.
func (a *App) indexTestNumbers() []error {
	var errs []error
	a.testCodes = make(map[string]string, len(a.TestNumbers))
	for _, raw := range slices.Sorted(maps.Keys(a.TestNumbers)) {
		code := a.TestNumbers[raw]
		num, err := a.Phone.Parse(raw)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("test_numbers: %q is not a number this application accepts", raw))
		case !digits(code, 4, 10):
			errs = append(errs, fmt.Errorf("test_numbers: the code of %q must be 4 to 10 digits", raw))
		case a.testCodes[num.E164] != "":
			errs = append(errs, fmt.Errorf("test_numbers: %q is %s, listed twice", raw, num.E164))
		default:
			a.testCodes[num.E164] = code
		}
	}
	return errs
}

// digits reports whether s is lo to hi ASCII digits.
func digits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func knownLang(l string) bool { return l == "zh" || l == "en" }

func validateTemplates(t map[string]map[gen.Scenario]string) []error {
	var errs []error
	for lang, byScenario := range t {
		if !knownLang(lang) {
			errs = append(errs, fmt.Errorf(`templates: language %q must be "zh" or "en"`, lang))
		}
		for s, text := range byScenario {
			if !s.Valid() {
				errs = append(errs, fmt.Errorf("templates.%s: unknown scenario %q", lang, s))
			}
			if !strings.Contains(text, codePlaceholder) {
				errs = append(errs, fmt.Errorf("templates.%s.%s: text has no %s", lang, s, codePlaceholder))
			}
		}
	}
	return errs
}

func validateCode(field string, c CodeSettings, top bool) []error {
	var errs []error
	if c.Length != 0 && (c.Length < minCodeLength || c.Length > maxCodeLength) {
		errs = append(errs, fmt.Errorf("%s.length %d is outside %d..%d", field, c.Length, minCodeLength, maxCodeLength))
	}
	if c.TTL != 0 && (c.TTL < minTTL || c.TTL > maxTTL) {
		errs = append(errs, fmt.Errorf("%s.ttl %v is outside %v..%v", field, c.TTL, minTTL, maxTTL))
	}
	if c.MaxAttempts != 0 && (c.MaxAttempts < 1 || c.MaxAttempts > maxMaxAttempts) {
		errs = append(errs, fmt.Errorf("%s.max_attempts %d is outside 1..%d", field, c.MaxAttempts, maxMaxAttempts))
	}
	if !top && len(c.PerScenario) > 0 {
		errs = append(errs, fmt.Errorf("%s.per_scenario: not allowed inside per_scenario", field))
	}
	for s, sc := range c.PerScenario {
		if !s.Valid() {
			errs = append(errs, fmt.Errorf("%s.per_scenario: unknown scenario %q", field, s))
		}
		if top {
			errs = append(errs, validateCode(field+".per_scenario."+string(s), sc, false)...)
		}
	}
	return errs
}

func validateLimits(l LimitOverrides) []error {
	var errs []error
	if l.NumberCooldown != 0 && (l.NumberCooldown < minCooldown || l.NumberCooldown > maxCooldown) {
		errs = append(errs, fmt.Errorf("limits.number_cooldown %v is outside %v..%v", l.NumberCooldown, minCooldown, maxCooldown))
	}
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"number_daily", l.NumberDaily},
		{"device_per_hour", l.DevicePerHour},
		{"ip_per_hour", l.IPPerHour},
		{"app_daily", l.AppDaily},
		{"verify_ip_per_hour", l.VerifyIPPerHour},
		{"verify_device_per_hour", l.VerifyDevicePerHour},
		{"verify_number_daily", l.VerifyNumberDaily},
	} {
		if c.v < 0 {
			errs = append(errs, fmt.Errorf("limits.%s %d is negative (0 inherits the server's)", c.name, c.v))
		}
	}
	return errs
}

func validateCaptcha(c CaptchaSettings) []error {
	var errs []error
	siteverify := c.Kind == CaptchaTurnstile || c.Kind == CaptchaHCaptcha
	switch {
	case c.Kind != CaptchaDefault && !siteverify && c.Kind != CaptchaSlider && c.Kind != CaptchaAltcha && c.Kind != CaptchaNone:
		errs = append(errs, fmt.Errorf(`captcha.kind %q must be "turnstile", "hcaptcha", "slider", "altcha" or "none"`, c.Kind))
	case siteverify && c.Secret == "":
		errs = append(errs, fmt.Errorf("captcha.secret is required for %s", c.Kind))
	case !siteverify && (c.Secret != "" || c.VerifyURL != ""):
		// A secret or URL that nothing reads is a configuration mistake,
		// most likely a wrong kind.
		errs = append(errs, errors.New("captcha.secret and captcha.verify_url are only for turnstile and hcaptcha"))
	}
	switch {
	case c.MaxNumber != 0 && c.Kind != CaptchaAltcha:
		errs = append(errs, errors.New("captcha.max_number is only for altcha"))
	case c.MaxNumber != 0 && (c.MaxNumber < minAltchaMax || c.MaxNumber > maxAltchaMax):
		errs = append(errs, fmt.Errorf("captcha.max_number %d is outside %d..%d", c.MaxNumber, minAltchaMax, maxAltchaMax))
	}
	if c.VerifyURL != "" {
		u, err := url.Parse(c.VerifyURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("captcha.verify_url %q must be an absolute http or https URL", c.VerifyURL))
		}
	}
	for i, tok := range c.TestTokens {
		if !printableToken(tok) {
			errs = append(errs, fmt.Errorf("captcha.test_tokens[%d] must be 1 to %d printable ASCII characters, as captcha_token", i, maxTokenLen))
		}
	}
	return errs
}

// printableToken reports whether a request could carry tok as its
// captcha_token (the spec's ^[ -~]+$, at most 2048 long): a test token no
// request can send is a typo.
func printableToken(tok string) bool {
	if len(tok) == 0 || len(tok) > maxTokenLen {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < ' ' || tok[i] > '~' {
			return false
		}
	}
	return true
}
