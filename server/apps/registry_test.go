package apps_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/phone"
)

func TestNewRegistryValidation(t *testing.T) {
	ok := func(mod func(*apps.App)) []apps.App {
		a := apps.App{ClientID: "web"}
		mod(&a)
		return []apps.App{a}
	}
	tests := []struct {
		name    string
		apps    []apps.App
		wantErr string // substring; "" = valid
	}{
		{"minimal", ok(func(*apps.App) {}), ""},
		{"everything set", ok(func(a *apps.App) {
			a.TenantID = "tenant_1"
			a.Scenarios = []gen.Scenario{gen.ScenarioLogin, gen.ScenarioOtpRest}
			a.Phone = phone.Policy{Strict: true, AllowCountries: []string{"CN"}}
			a.DefaultLang = "en"
			a.Templates = map[string]map[gen.Scenario]string{"en": {gen.ScenarioLogin: "Your code is {code}."}}
			a.Code = apps.CodeSettings{Length: 4, TTL: 30 * time.Second, MaxAttempts: 100,
				PerScenario: map[gen.Scenario]apps.CodeSettings{gen.ScenarioOtpRest: {Length: 10, TTL: 24 * time.Hour}}}
			a.Limits = apps.LimitOverrides{NumberCooldown: time.Minute, NumberDaily: 10}
			a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaTurnstile, Secret: "s", VerifyURL: "http://127.0.0.1:8080/siteverify"}
			a.Providers = []string{"huawei", "log"}
		}), ""},
		{"no apps", nil, "no application configured"},
		{"no client id", ok(func(a *apps.App) { a.ClientID = "" }), `client_id "" must be`},
		{"client id with a slash", ok(func(a *apps.App) { a.ClientID = "a/b" }), `client_id "a/b" must be`},
		{"client id with a brace", ok(func(a *apps.App) { a.ClientID = "{a}" }), `client_id "{a}" must be`},
		{"client id of 65", ok(func(a *apps.App) { a.ClientID = strings.Repeat("a", 65) }), "client_id"},
		{"client id of 64", ok(func(a *apps.App) { a.ClientID = strings.Repeat("a", 64) }), ""},
		{"tenant id with a space", ok(func(a *apps.App) { a.TenantID = "t 1" }), `tenant_id "t 1" must be`},
		{"duplicate pair", []apps.App{{ClientID: "a", TenantID: "t"}, {ClientID: "a", TenantID: "t"}}, `client_id "a" with tenant_id "t" is registered twice`},
		{"duplicate without tenant", []apps.App{{ClientID: "a"}, {ClientID: "a"}}, "registered twice"},
		{"same client, other tenants", []apps.App{{ClientID: "a"}, {ClientID: "a", TenantID: "t1"}, {ClientID: "a", TenantID: "t2"}}, ""},
		{"unknown scenario", ok(func(a *apps.App) { a.Scenarios = []gen.Scenario{"LOGIN"} }), `unknown scenario "LOGIN"`},
		{"bad phone policy", ok(func(a *apps.App) { a.Phone.DenyCountries = []string{"UK"} }), `phone: deny_countries: unknown region code "UK"`},
		{"bad language", ok(func(a *apps.App) { a.DefaultLang = "fr" }), `default_lang "fr"`},
		{"template without code", ok(func(a *apps.App) {
			a.Templates = map[string]map[gen.Scenario]string{"zh": {gen.ScenarioLogin: "验证码 {CODE}"}}
		}), "templates.zh.LOGIN_SMS: text has no {code}"},
		{"template language", ok(func(a *apps.App) {
			a.Templates = map[string]map[gen.Scenario]string{"de": {gen.ScenarioLogin: "{code}"}}
		}), `templates: language "de"`},
		{"template scenario", ok(func(a *apps.App) {
			a.Templates = map[string]map[gen.Scenario]string{"en": {"X": "{code}"}}
		}), `templates.en: unknown scenario "X"`},
		{"code length 3", ok(func(a *apps.App) { a.Code.Length = 3 }), "code.length 3 is outside 4..10"},
		{"code length 11", ok(func(a *apps.App) { a.Code.Length = 11 }), "code.length 11"},
		{"negative length", ok(func(a *apps.App) { a.Code.Length = -6 }), "code.length -6"},
		{"ttl 29s", ok(func(a *apps.App) { a.Code.TTL = 29 * time.Second }), "code.ttl 29s is outside 30s..24h0m0s"},
		{"ttl 25h", ok(func(a *apps.App) { a.Code.TTL = 25 * time.Hour }), "code.ttl 25h0m0s"},
		{"attempts 101", ok(func(a *apps.App) { a.Code.MaxAttempts = 101 }), "code.max_attempts 101 is outside 1..100"},
		{"per-scenario length", ok(func(a *apps.App) {
			a.Code.PerScenario = map[gen.Scenario]apps.CodeSettings{gen.ScenarioLogin: {Length: 2}}
		}), "code.per_scenario.LOGIN_SMS.length 2"},
		{"per-scenario unknown", ok(func(a *apps.App) {
			a.Code.PerScenario = map[gen.Scenario]apps.CodeSettings{"login": {Length: 6}}
		}), `code.per_scenario: unknown scenario "login"`},
		{"nested per-scenario", ok(func(a *apps.App) {
			a.Code.PerScenario = map[gen.Scenario]apps.CodeSettings{gen.ScenarioLogin: {
				PerScenario: map[gen.Scenario]apps.CodeSettings{gen.ScenarioLogin: {}}}}
		}), "not allowed inside per_scenario"},
		{"cooldown 500ms", ok(func(a *apps.App) { a.Limits.NumberCooldown = 500 * time.Millisecond }), "limits.number_cooldown 500ms"},
		{"negative count", ok(func(a *apps.App) { a.Limits.IPPerHour = -1 }), "limits.ip_per_hour -1 is negative"},
		{"captcha kind", ok(func(a *apps.App) { a.Captcha.Kind = "recaptcha" }), `captcha.kind "recaptcha"`},
		{"turnstile without secret", ok(func(a *apps.App) { a.Captcha.Kind = apps.CaptchaTurnstile }), "captcha.secret is required for turnstile"},
		{"slider with secret", ok(func(a *apps.App) { a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaSlider, Secret: "s"} }), "only for turnstile and hcaptcha"},
		{"altcha", ok(func(a *apps.App) { a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaAltcha, MaxNumber: 50_000} }), ""},
		{"altcha max_number 999", ok(func(a *apps.App) { a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaAltcha, MaxNumber: 999} }), "captcha.max_number 999 is outside 1000..100000000"},
		{"altcha max_number 1e9", ok(func(a *apps.App) { a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaAltcha, MaxNumber: 1e9} }), "captcha.max_number 1000000000"},
		{"max_number on slider", ok(func(a *apps.App) { a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaSlider, MaxNumber: 5000} }), "captcha.max_number is only for altcha"},
		{"altcha with secret", ok(func(a *apps.App) { a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaAltcha, Secret: "s"} }), "only for turnstile and hcaptcha"},
		{"relative verify url", ok(func(a *apps.App) {
			a.Captcha = apps.CaptchaSettings{Kind: apps.CaptchaHCaptcha, Secret: "s", VerifyURL: "/siteverify"}
		}), `captcha.verify_url "/siteverify"`},
		{"empty test token", ok(func(a *apps.App) { a.Captcha.TestTokens = []string{""} }), "captcha.test_tokens[0]"},
		{"test token with newline", ok(func(a *apps.App) { a.Captcha.TestTokens = []string{"ok", "a\n"} }), "captcha.test_tokens[1]"},
		{"test number not a number", ok(func(a *apps.App) { a.TestNumbers = map[string]string{"555": "123456"} }), `test_numbers: "555" is not a number`},
		{"test number's code", ok(func(a *apps.App) { a.TestNumbers = map[string]string{"13800000000": "12ab56"} }), `the code of "13800000000" must be 4 to 10 digits`},
		{"test number twice", ok(func(a *apps.App) {
			a.TestNumbers = map[string]string{"13800000000": "123456", "+8613800000000": "654321"}
		}), "+8613800000000, listed twice"},
		{"empty provider", ok(func(a *apps.App) { a.Providers = []string{""} }), "providers: empty provider name"},
		{"provider twice", ok(func(a *apps.App) { a.Providers = []string{"a", "a"} }), `providers: "a" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := apps.NewRegistry(tt.apps)
			if tt.wantErr == "" {
				if err != nil || r == nil {
					t.Fatalf("NewRegistry: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewRegistry error = %v, want one containing %q", err, tt.wantErr)
			}
			if r != nil {
				t.Fatal("NewRegistry returned a registry with its error")
			}
		})
	}
}

// TestNewRegistryReportsAll: one pass shows every mistake, with the app it
// belongs to.
func TestNewRegistryReportsAll(t *testing.T) {
	_, err := apps.NewRegistry([]apps.App{
		{ClientID: "good"},
		{ClientID: "bad", Code: apps.CodeSettings{Length: 3}, DefaultLang: "fr"},
		{ClientID: ""},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`apps[1] (client_id "bad"): code.length 3`,
		`apps[1] (client_id "bad"): default_lang "fr"`,
		`apps[2] (client_id ""): client_id "" must be`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if errors.Is(err, apps.ErrNoApps) {
		t.Error("error claims there are no apps")
	}
}

func TestLookup(t *testing.T) {
	r, err := apps.NewRegistry([]apps.App{
		{ClientID: "web", Name: "web"},
		{ClientID: "old", Disabled: true},
		{ClientID: "isv", TenantID: "acme", Name: "isv for acme"},
		{ClientID: "isv", TenantID: "globex", Name: "isv for globex", Disabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, client, tenant string
		wantName             string
		wantCode             gen.ErrorCode
	}{
		{"plain app", "web", "", "web", ""},
		{"unknown client", "nope", "", "", gen.ErrorCodeAppNotFound},
		{"client ids are case-sensitive", "WEB", "", "", gen.ErrorCodeAppNotFound},
		{"plain app with a tenant", "web", "acme", "", gen.ErrorCodeAppNotFound},
		{"disabled", "old", "", "", gen.ErrorCodeAppDisabled},
		{"ISV with its tenant", "isv", "acme", "isv for acme", ""},
		{"ISV without tenant", "isv", "", "", gen.ErrorCodeAppNotFound},
		{"ISV with another tenant", "isv", "initech", "", gen.ErrorCodeAppNotFound},
		{"ISV disabled for one tenant", "isv", "globex", "", gen.ErrorCodeAppDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := r.Lookup(tt.client, tt.tenant)
			if tt.wantCode == "" {
				if err != nil || a.Name != tt.wantName {
					t.Fatalf("Lookup = %+v, %v; want %q", a, err, tt.wantName)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != tt.wantCode || a != nil {
				t.Fatalf("Lookup = %v, %v; want %s", a, err, tt.wantCode)
			}
		})
	}
}

func TestLookupCauseNamesTenantMistake(t *testing.T) {
	r, err := apps.NewRegistry([]apps.App{{ClientID: "isv", TenantID: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Lookup("isv", "")
	if err == nil || !strings.Contains(err.Error(), "only with others") {
		t.Fatalf("error %v does not say the tenant is the problem", err)
	}
}

func TestRegistryOwnsItsApps(t *testing.T) {
	in := []apps.App{{
		ClientID:  "web",
		Scenarios: []gen.Scenario{gen.ScenarioLogin},
		Templates: map[string]map[gen.Scenario]string{"en": {gen.ScenarioLogin: "{code}"}},
	}}
	r, err := apps.NewRegistry(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].ClientID = "changed"
	in[0].Scenarios[0] = gen.ScenarioRegister
	in[0].Templates["en"][gen.ScenarioLogin] = "no placeholder"
	a, err := r.Lookup("web", "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Allows(gen.ScenarioLogin) || a.Allows(gen.ScenarioRegister) {
		t.Error("changing the caller's scenarios changed the registry")
	}
	if tpl, _ := a.Template("en", gen.ScenarioLogin); tpl != "{code}" {
		t.Errorf("template = %q", tpl)
	}
}

func TestDevOnly(t *testing.T) {
	tests := []struct {
		name string
		apps []apps.App
		want bool
	}{
		{"no test tokens", []apps.App{{ClientID: "a"}, {ClientID: "b", Captcha: apps.CaptchaSettings{Kind: apps.CaptchaNone}}}, false},
		{"one app with test tokens", []apps.App{{ClientID: "a"}, {ClientID: "b", Captcha: apps.CaptchaSettings{TestTokens: []string{"XXXX.DUMMY.TOKEN"}}}}, true},
		{"even a disabled one", []apps.App{{ClientID: "a", Disabled: true, Captcha: apps.CaptchaSettings{TestTokens: []string{"t"}}}}, true},
		{"one app with test numbers", []apps.App{{ClientID: "a"}, {ClientID: "b", TestNumbers: map[string]string{"13800000000": "123456"}}}, true},
	}
	for _, tt := range tests {
		r, err := apps.NewRegistry(tt.apps)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.DevOnly(); got != tt.want {
			t.Errorf("%s: DevOnly = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Test numbers are found by their E.164 form, however they were written.
func TestTestCode(t *testing.T) {
	r, err := apps.NewRegistry([]apps.App{{ClientID: "a", TestNumbers: map[string]string{"13800000000": "123456", "+14155550100": "0000"}}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.Lookup("a", "")
	for e164, want := range map[string]string{"+8613800000000": "123456", "+14155550100": "0000", "+8613800000001": ""} {
		if got, ok := a.TestCode(e164); got != want || ok != (want != "") {
			t.Errorf("TestCode(%s) = %q, %v; want %q", e164, got, ok, want)
		}
	}
}

func TestApps(t *testing.T) {
	r, err := apps.NewRegistry([]apps.App{{ClientID: "b"}, {ClientID: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	all := r.Apps()
	if len(all) != 2 || all[0].ClientID != "b" || all[1].ClientID != "a" {
		t.Fatalf("Apps = %v, want b then a", all)
	}
	all[0] = nil
	if r.Apps()[0] == nil {
		t.Fatal("Apps returned the registry's own slice")
	}
}
