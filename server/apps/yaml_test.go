package apps_test

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apps"
)

const appYAML = `
client_id: web
tenant_id: acme
name: Acme web
scenarios: [LOGIN_SMS, REGISTER_SMS]
phone:
  strict: true
  allow_countries: [CN, HK]
  deny_countries: ["001"]
default_lang: zh
signature: 【OneAccess】
templates:
  en:
    LOGIN_SMS: "Your login code is {code}, valid for {ttl} minutes."
code:
  length: 6
  ttl: 5m
  max_attempts: 3
  per_scenario:
    REGISTER_SMS:
      ttl: 10m
limits:
  number_cooldown: 90s
  number_daily: 10
  ip_per_hour: 100
captcha:
  kind: turnstile
  secret: 0x4AAAAAAA
  test_tokens: [XXXX.DUMMY.TOKEN.XXXX]
providers: [huawei, aliyun]
`

func decodeApp(t *testing.T, src string) (apps.App, error) {
	t.Helper()
	var a apps.App
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	err := dec.Decode(&a)
	return a, err
}

func TestYAML(t *testing.T) {
	a, err := decodeApp(t, appYAML)
	if err != nil {
		t.Fatal(err)
	}
	r, err := apps.NewRegistry([]apps.App{a})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Lookup("web", "acme")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"name", got.Name == "Acme web"},
		{"enabled by default", !got.Disabled},
		{"scenarios", got.Allows(gen.ScenarioLogin) && !got.Allows(gen.ScenarioOtpRest)},
		{"phone", got.Phone.Strict && len(got.Phone.AllowCountries) == 2 && got.Phone.DenyCountries[0] == "001"},
		{"lang and signature", got.DefaultLang == "zh" && got.Signature == "【OneAccess】"},
		{"template", got.Templates["en"][gen.ScenarioLogin] == "Your login code is {code}, valid for {ttl} minutes."},
		{"code", sameCode(got.CodeFor(gen.ScenarioLogin), apps.CodeSettings{Length: 6, TTL: 5 * time.Minute, MaxAttempts: 3})},
		{"per-scenario code", sameCode(got.CodeFor(gen.ScenarioRegister), apps.CodeSettings{Length: 6, TTL: 10 * time.Minute, MaxAttempts: 3})},
		{"limits", got.Limits == apps.LimitOverrides{NumberCooldown: 90 * time.Second, NumberDaily: 10, IPPerHour: 100}},
		{"captcha", got.Captcha.Kind == apps.CaptchaTurnstile && got.Captcha.Secret == "0x4AAAAAAA" && got.Captcha.TestTokens[0] == "XXXX.DUMMY.TOKEN.XXXX"},
		{"dev only", r.DevOnly()},
		{"providers", len(got.Providers) == 2 && got.Providers[0] == "huawei"},
		{"scope", got.Scope() == "web/acme"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: decoded %+v", c.name, got)
		}
	}
}

func TestYAMLErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"duration without unit", "client_id: a\ncode:\n  ttl: 300\n", "cannot unmarshal"},
		{"bad duration", "client_id: a\ncode:\n  ttl: 5 minutes\n", "cannot unmarshal"},
		{"misspelt key", "client_id: a\nenabled: false\n", "field enabled not found"},
		{"count as text", "client_id: a\nlimits:\n  number_daily: ten\n", "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeApp(t, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decode error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestYAMLDisabled(t *testing.T) {
	a, err := decodeApp(t, "client_id: a\ndisabled: true\n")
	if err != nil || !a.Disabled {
		t.Fatalf("decoded %+v, %v", a, err)
	}
}
