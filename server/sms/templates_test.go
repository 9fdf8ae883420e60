package sms_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/sms"
)

var scenarios = []gen.Scenario{
	gen.ScenarioRegister, gen.ScenarioLogin, gen.ScenarioForgetPwd,
	gen.ScenarioBindMobile, gen.ScenarioUpdateMobile, gen.ScenarioOtpRest,
}

// Every scenario renders in both languages with the code next to the word
// "code" (what autofill looks for), the minutes and the signature, and no
// placeholder left over; and no two scenarios read the same.
func TestDefaultTemplatesRenderEveryScenario(t *testing.T) {
	tm := sms.DefaultTemplates()
	for _, tt := range []struct {
		xl, lang, signature, codeWord, minutes string
	}{
		{"en", "en", "[Example] ", "verification code is 493027", "valid for 5 minutes"},
		{"zh-CN", "zh", "【示例】", "验证码为493027", "5分钟内有效"},
	} {
		seen := map[string]gen.Scenario{}
		for _, sc := range scenarios {
			text, lang := tm.Render(sms.RenderInput{
				Scenario: string(sc), Lang: tt.xl, Code: "493027", TTL: 5 * time.Minute, Signature: tt.signature,
			})
			if lang != tt.lang {
				t.Errorf("%s %s: lang %q, want %q", tt.xl, sc, lang, tt.lang)
			}
			for _, want := range []string{tt.signature, tt.codeWord, tt.minutes} {
				if !strings.Contains(text, want) {
					t.Errorf("%s %s: %q lacks %q", tt.xl, sc, text, want)
				}
			}
			if !strings.HasPrefix(text, tt.signature) {
				t.Errorf("%s %s: %q does not start with the signature", tt.xl, sc, text)
			}
			if strings.ContainsAny(text, "{}") {
				t.Errorf("%s %s: placeholder left in %q", tt.xl, sc, text)
			}
			if other, dup := seen[text]; dup {
				t.Errorf("%s: %s and %s read the same: %q", tt.xl, sc, other, text)
			}
			seen[text] = sc
		}
	}
}

func TestRenderLanguage(t *testing.T) {
	tests := []struct {
		xl, def, want string
	}{
		{"zh", "", "zh"},
		{"zh-CN", "en", "zh"},
		{"zh_Hans", "", "zh"},
		{"ZH-TW", "", "zh"},
		{"en-GB", "zh", "en"},
		{"fr-FR", "zh", "zh"},   // not zh or en: the application's default
		{"", "zh-CN", "zh"},     // no X-L: the default's primary subtag
		{"fr", "de", "en"},      // neither: English
		{"", "", "en"},          // nothing at all
		{"zhx", "", "en"},       // not the zh subtag
		{"english", "zh", "zh"}, // not the en subtag
		{"en-zh", "", "en"},     // only the primary subtag counts
	}
	tm := sms.DefaultTemplates()
	for _, tt := range tests {
		_, got := tm.Render(sms.RenderInput{Scenario: string(gen.ScenarioLogin), Lang: tt.xl, DefaultLang: tt.def, Code: "1234", TTL: time.Minute})
		if got != tt.want {
			t.Errorf("X-L %q, default %q: lang %q, want %q", tt.xl, tt.def, got, tt.want)
		}
	}
}

func TestMinutes(t *testing.T) {
	tests := []struct {
		ttl  time.Duration
		want int
	}{
		{0, 1}, {-time.Minute, 1}, {time.Second, 1}, {time.Minute, 1},
		{time.Minute + time.Second, 2}, {5 * time.Minute, 5}, {299 * time.Second, 5}, {10 * time.Minute, 10},
	}
	for _, tt := range tests {
		if got := sms.Minutes(tt.ttl); got != tt.want {
			t.Errorf("Minutes(%v) = %d, want %d", tt.ttl, got, tt.want)
		}
		text, _ := sms.DefaultTemplates().Render(sms.RenderInput{Scenario: string(gen.ScenarioLogin), Lang: "en", Code: "1234", TTL: tt.ttl})
		if want := " " + strconv.Itoa(tt.want) + " minutes"; !strings.Contains(text, want) {
			t.Errorf("TTL %v: %q lacks %q", tt.ttl, text, want)
		}
	}
}

// The origin-bound line is last, alone, and only for a host name.
func TestRenderDomain(t *testing.T) {
	tests := []struct {
		domain   string
		lastLine string // "" when no line is added
	}{
		{"example.com", "@example.com #493027"},
		{"login.example.co.uk", "@login.example.co.uk #493027"},
		{"xn--fiqs8s.example", "@xn--fiqs8s.example #493027"},
		{"", ""},
		{"https://example.com", ""},
		{"example.com:8443", ""},
		{"example.com\n@evil.example", ""},
		{"exa mple.com", ""},
		{"-bad.example", ""},
		{"a..b", ""},
	}
	for _, tt := range tests {
		text, _ := sms.DefaultTemplates().Render(sms.RenderInput{
			Scenario: string(gen.ScenarioLogin), Lang: "en", Code: "493027", TTL: 5 * time.Minute, Domain: tt.domain,
		})
		lines := strings.Split(text, "\n")
		switch {
		case tt.lastLine == "" && len(lines) != 1:
			t.Errorf("domain %q: got extra lines %q", tt.domain, text)
		case tt.lastLine != "" && (len(lines) != 2 || lines[1] != tt.lastLine):
			t.Errorf("domain %q: %q, want last line %q", tt.domain, text, tt.lastLine)
		}
	}
}

// A code or signature carrying placeholders is written out as is.
func TestRenderDoesNotExpandValues(t *testing.T) {
	text, _ := sms.DefaultTemplates().Render(sms.RenderInput{
		Scenario: string(gen.ScenarioLogin), Lang: "en", TTL: 5 * time.Minute,
		Code:      "{signature}{minutes}",
		Signature: "[{code}] ",
	})
	want := "[{code}] Your verification code is {signature}{minutes}. It is valid for 5 minutes. Use it only to sign in; never share it."
	if text != want {
		t.Errorf("got  %q\nwant %q", text, want)
	}
}

func TestRenderUnknownScenario(t *testing.T) {
	for _, lang := range []string{"en", "zh"} {
		text, got := sms.DefaultTemplates().Render(sms.RenderInput{Scenario: "NOPE", Lang: lang, Code: "493027", TTL: time.Minute})
		if got != lang || !strings.Contains(text, "493027") {
			t.Errorf("%s: %q (%s), want a generic text with the code", lang, text, got)
		}
	}
}

func TestWith(t *testing.T) {
	base := sms.DefaultTemplates()
	tests := []struct {
		name      string
		overrides map[string]map[string]string
		ok        bool
	}{
		{"one text", map[string]map[string]string{"en": {"LOGIN_SMS": "{signature}Login code {code}, {minutes} min."}}, true},
		{"code only", map[string]map[string]string{"zh": {"OTP_REST_SMS": "验证码{code}"}}, true},
		{"none", nil, true},
		{"no code", map[string]map[string]string{"en": {"LOGIN_SMS": "Your code expires in {minutes} minutes."}}, false},
		{"unknown placeholder", map[string]map[string]string{"en": {"LOGIN_SMS": "Hi {name}, code {code}"}}, false},
		{"misspelt placeholder", map[string]map[string]string{"en": {"LOGIN_SMS": "code {Code} {code}"}}, false},
		{"stray brace", map[string]map[string]string{"en": {"LOGIN_SMS": "code {code} {"}}, false},
		{"unknown language", map[string]map[string]string{"fr": {"LOGIN_SMS": "code {code}"}}, false},
		{"region instead of language", map[string]map[string]string{"zh-CN": {"LOGIN_SMS": "验证码{code}"}}, false},
		{"unknown scenario", map[string]map[string]string{"en": {"LOGIN": "code {code}"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := base.With(tt.overrides)
			if (err == nil) != tt.ok {
				t.Fatalf("With = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			for lang, m := range tt.overrides {
				for sc, text := range m {
					if s, _ := got.Text(lang, gen.Scenario(sc)); s != text {
						t.Errorf("%s/%s = %q, want the override", lang, sc, s)
					}
				}
			}
		})
	}
}

// With leaves its receiver alone, and the other texts in place.
func TestWithCopies(t *testing.T) {
	base := sms.DefaultTemplates()
	before, _ := base.Text("en", gen.ScenarioLogin)
	custom, err := base.With(map[string]map[string]string{"en": {"LOGIN_SMS": "{signature}Sign-in code: {code}"}})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := base.Text("en", gen.ScenarioLogin); after != before {
		t.Errorf("With changed its receiver: %q", after)
	}
	text, _ := custom.Render(sms.RenderInput{Scenario: "LOGIN_SMS", Lang: "en", Code: "1234", Signature: "[X] ", TTL: time.Minute})
	if text != "[X] Sign-in code: 1234" {
		t.Errorf("override rendered %q", text)
	}
	zh, _ := custom.Render(sms.RenderInput{Scenario: "LOGIN_SMS", Lang: "zh", Code: "1234", TTL: time.Minute})
	if !strings.Contains(zh, "验证码为1234") {
		t.Errorf("the zh default was lost: %q", zh)
	}
}

// Applications that keep the built-in texts share one copy of them: a
// server with many applications must not hold the texts once per
// application (every GC cycle marks them). With an override, With copies.
func TestDefaultsShared(t *testing.T) {
	base := sms.DefaultTemplates()
	if sms.DefaultTemplates() != base {
		t.Error("DefaultTemplates made a new copy")
	}
	for _, none := range []map[string]map[string]string{nil, {}} {
		same, err := base.With(none)
		if err != nil {
			t.Fatal(err)
		}
		if same != base {
			t.Errorf("With(%v) copied the texts", none)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = sms.DefaultTemplates().With(nil) }); allocs != 0 {
		t.Errorf("DefaultTemplates().With(nil) allocates %.0f times", allocs)
	}
	custom, err := base.With(map[string]map[string]string{"en": {"LOGIN_SMS": "{signature}Sign-in code: {code}"}})
	if err != nil {
		t.Fatal(err)
	}
	if custom == base {
		t.Error("With an override returned its receiver")
	}
}
