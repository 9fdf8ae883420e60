package apps_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apps"
)

var allScenarios = []gen.Scenario{
	gen.ScenarioRegister, gen.ScenarioLogin, gen.ScenarioForgetPwd,
	gen.ScenarioBindMobile, gen.ScenarioUpdateMobile, gen.ScenarioOtpRest,
}

func TestAllows(t *testing.T) {
	all := &apps.App{ClientID: "a"}
	some := &apps.App{ClientID: "a", Scenarios: []gen.Scenario{gen.ScenarioLogin, gen.ScenarioOtpRest}}
	for _, s := range allScenarios {
		if !all.Allows(s) {
			t.Errorf("app without scenarios refuses %s", s)
		}
		want := s == gen.ScenarioLogin || s == gen.ScenarioOtpRest
		if some.Allows(s) != want {
			t.Errorf("app with two scenarios: Allows(%s) = %v", s, !want)
		}
	}
	for _, s := range []gen.Scenario{"", "login_sms", "OTP_RESET_SMS"} {
		if all.Allows(s) || some.Allows(s) {
			t.Errorf("Allows(%q) = true", s)
		}
	}
}

func TestCodeFor(t *testing.T) {
	defaults := apps.CodeSettings{Length: 6, TTL: 5 * time.Minute, MaxAttempts: 5}
	tests := []struct {
		name string
		code apps.CodeSettings
		s    gen.Scenario
		want apps.CodeSettings
	}{
		{"built-in defaults", apps.CodeSettings{}, gen.ScenarioLogin, defaults},
		{"app overrides one field", apps.CodeSettings{Length: 8}, gen.ScenarioLogin,
			apps.CodeSettings{Length: 8, TTL: 5 * time.Minute, MaxAttempts: 5}},
		{"app overrides all", apps.CodeSettings{Length: 4, TTL: time.Minute, MaxAttempts: 3}, gen.ScenarioLogin,
			apps.CodeSettings{Length: 4, TTL: time.Minute, MaxAttempts: 3}},
		{"scenario over app over default", apps.CodeSettings{Length: 4, TTL: time.Minute,
			PerScenario: map[gen.Scenario]apps.CodeSettings{gen.ScenarioOtpRest: {TTL: 2 * time.Minute}}}, gen.ScenarioOtpRest,
			apps.CodeSettings{Length: 4, TTL: 2 * time.Minute, MaxAttempts: 5}},
		{"other scenario keeps the app's", apps.CodeSettings{Length: 4, TTL: time.Minute,
			PerScenario: map[gen.Scenario]apps.CodeSettings{gen.ScenarioOtpRest: {TTL: 2 * time.Minute}}}, gen.ScenarioLogin,
			apps.CodeSettings{Length: 4, TTL: time.Minute, MaxAttempts: 5}},
		{"scenario over default", apps.CodeSettings{
			PerScenario: map[gen.Scenario]apps.CodeSettings{gen.ScenarioRegister: {Length: 10, MaxAttempts: 1}}}, gen.ScenarioRegister,
			apps.CodeSettings{Length: 10, TTL: 5 * time.Minute, MaxAttempts: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &apps.App{ClientID: "a", Code: tt.code}
			got := a.CodeFor(tt.s)
			if !sameCode(got, tt.want) {
				t.Fatalf("CodeFor(%s) = %+v, want %+v", tt.s, got, tt.want)
			}
		})
	}
	if d := (apps.CodeSettings{Length: apps.DefaultCodeLength, TTL: apps.DefaultCodeTTL, MaxAttempts: apps.DefaultMaxAttempts}); !sameCode(d, defaults) {
		t.Fatalf("defaults are %+v, the brief says %+v", d, defaults)
	}
}

func TestLimitsOver(t *testing.T) {
	server := apps.LimitOverrides{NumberCooldown: time.Minute, NumberDaily: 10, DevicePerHour: 20, IPPerHour: 30, AppDaily: 1000}
	app := apps.LimitOverrides{NumberCooldown: 2 * time.Minute, IPPerHour: 5}
	got := app.Over(server)
	want := apps.LimitOverrides{NumberCooldown: 2 * time.Minute, NumberDaily: 10, DevicePerHour: 20, IPPerHour: 5, AppDaily: 1000}
	if got != want {
		t.Fatalf("Over = %+v, want %+v", got, want)
	}
	if got := (apps.LimitOverrides{}).Over(server); got != server {
		t.Fatalf("zero overrides changed the server's limits: %+v", got)
	}
}

func TestScope(t *testing.T) {
	tests := []struct{ tenant, client, want string }{
		{"", "web", "web"},
		{"acme", "isv", "isv/acme"},
		{"acme-1", "isv_2", "isv_2/acme-1"},
	}
	for _, tt := range tests {
		a := &apps.App{ClientID: tt.client, TenantID: tt.tenant}
		got := a.Scope()
		if got != tt.want {
			t.Errorf("Scope(%q, %q) = %q, want %q", tt.tenant, tt.client, got, tt.want)
		}
		if strings.ContainsAny(got, "{}") {
			t.Errorf("Scope %q holds a brace", got)
		}
	}
}

func TestCaptchaSecretNotPrinted(t *testing.T) {
	a := apps.App{ClientID: "a", Captcha: apps.CaptchaSettings{Kind: apps.CaptchaTurnstile, Secret: "0x4AAAsecret"}}
	for _, out := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a), fmt.Sprintf("%v", &a)} {
		if strings.Contains(out, "0x4AAAsecret") {
			t.Errorf("printed app shows the captcha secret: %s", out)
		}
	}
}

// sameCode compares code settings that have no PerScenario (CodeSettings
// holds a map, so == does not compile).
func sameCode(a, b apps.CodeSettings) bool {
	return a.Length == b.Length && a.TTL == b.TTL && a.MaxAttempts == b.MaxAttempts &&
		a.PerScenario == nil && b.PerScenario == nil
}
