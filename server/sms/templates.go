package sms

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/smscode/smscode/gen"
)

// The languages that templates exist in.
const (
	LangChinese = "zh"
	LangEnglish = "en"
)

// The placeholders a template may contain. {code} is required.
const (
	PlaceholderSignature = "{signature}"
	PlaceholderCode      = "{code}"
	PlaceholderMinutes   = "{minutes}"
)

// Templates holds the text of the message for each language and scenario.
// The defaults put the code right after "verification code" / "验证码" and
// keep it the only number before the lifetime, which is what iOS and Android
// look for to offer the code for autofill. A Templates is immutable: With
// returns a new one.
type Templates struct {
	texts map[string]map[gen.Scenario]string // lang → scenario → text
}

// defaultTexts gives one distinct purpose per scenario, so that a code
// received unexpectedly tells the user what someone is trying to do.
var defaultTexts = map[string]map[gen.Scenario]string{
	LangEnglish: {
		gen.ScenarioRegister:     "{signature}Your verification code is {code}. It is valid for {minutes} minutes. Use it only to create your account; never share it.",
		gen.ScenarioLogin:        "{signature}Your verification code is {code}. It is valid for {minutes} minutes. Use it only to sign in; never share it.",
		gen.ScenarioForgetPwd:    "{signature}Your verification code is {code}. It is valid for {minutes} minutes. Use it only to reset your password; never share it.",
		gen.ScenarioBindMobile:   "{signature}Your verification code is {code}. It is valid for {minutes} minutes. Use it only to bind your mobile number; never share it.",
		gen.ScenarioUpdateMobile: "{signature}Your verification code is {code}. It is valid for {minutes} minutes. Use it only to change your mobile number; never share it.",
		gen.ScenarioOtpRest:      "{signature}Your verification code is {code}. It is valid for {minutes} minutes. Use it only for two-step verification; never share it.",
	},
	LangChinese: {
		gen.ScenarioRegister:     "{signature}您的验证码为{code}，{minutes}分钟内有效，用于注册账号。请勿泄露给他人。",
		gen.ScenarioLogin:        "{signature}您的验证码为{code}，{minutes}分钟内有效，用于登录。请勿泄露给他人。",
		gen.ScenarioForgetPwd:    "{signature}您的验证码为{code}，{minutes}分钟内有效，用于重置密码。请勿泄露给他人。",
		gen.ScenarioBindMobile:   "{signature}您的验证码为{code}，{minutes}分钟内有效，用于绑定手机号。请勿泄露给他人。",
		gen.ScenarioUpdateMobile: "{signature}您的验证码为{code}，{minutes}分钟内有效，用于更换手机号。请勿泄露给他人。",
		gen.ScenarioOtpRest:      "{signature}您的验证码为{code}，{minutes}分钟内有效，用于二次身份验证。请勿泄露给他人。",
	},
}

// genericTexts serve a scenario that has no template (the pipeline refuses
// unknown scenarios before rendering, so this is a safety net that still
// delivers a usable code).
var genericTexts = map[string]string{
	LangEnglish: "{signature}Your verification code is {code}. It is valid for {minutes} minutes. Never share it.",
	LangChinese: "{signature}您的验证码为{code}，{minutes}分钟内有效。请勿泄露给他人。",
}

// builtin is the one Templates of the built-in texts: a Templates is
// immutable, so every caller can share it, and a server with 100,000
// applications that keep the defaults holds the texts once, not 100,000
// times (some 900 B of heap each, which every GC cycle marks).
var builtin = &Templates{texts: copyTexts(defaultTexts)}

// DefaultTemplates returns the built-in texts: the six scenarios in Chinese
// and English. The value is shared (Templates are immutable).
func DefaultTemplates() *Templates { return builtin }

// Text returns the template for lang ("zh" or "en") and scenario.
func (t *Templates) Text(lang string, scenario gen.Scenario) (string, bool) {
	s, ok := t.texts[lang][scenario]
	return s, ok
}

// With returns a copy of t in which overrides (lang → scenario → text)
// replace the texts they name. It refuses a language other than zh and en, a
// scenario that is not one of the six, and a text without {code} or with a
// brace that does not open a known placeholder. t is not changed. Without
// overrides it returns t itself: Templates are immutable, so there is
// nothing to copy for.
func (t *Templates) With(overrides map[string]map[string]string) (*Templates, error) {
	if len(overrides) == 0 {
		return t, nil
	}
	out := &Templates{texts: copyTexts(t.texts)}
	for lang, byScenario := range overrides {
		if lang != LangChinese && lang != LangEnglish {
			return nil, fmt.Errorf("sms: template language %q: want %q or %q", lang, LangChinese, LangEnglish)
		}
		for sc, text := range byScenario {
			scenario := gen.Scenario(sc)
			if !scenario.Valid() {
				return nil, fmt.Errorf("sms: template %s/%s: unknown scenario", lang, sc)
			}
			if err := checkTemplate(text); err != nil {
				return nil, fmt.Errorf("sms: template %s/%s: %w", lang, sc, err)
			}
			if out.texts[lang] == nil {
				out.texts[lang] = map[gen.Scenario]string{}
			}
			out.texts[lang][scenario] = text
		}
	}
	return out, nil
}

// checkTemplate accepts a text whose every "{" opens one of the three
// placeholders and that contains {code}.
func checkTemplate(text string) error {
	if !strings.Contains(text, PlaceholderCode) {
		return fmt.Errorf("no %s placeholder", PlaceholderCode)
	}
	for rest := text; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		rest = rest[i:]
		known := false
		for _, p := range []string{PlaceholderSignature, PlaceholderCode, PlaceholderMinutes} {
			if strings.HasPrefix(rest, p) {
				rest, known = rest[len(p):], true
				break
			}
		}
		if !known {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				end = len(rest) - 1
			}
			return fmt.Errorf("unknown placeholder %q (known: %s, %s, %s)",
				rest[:end+1], PlaceholderSignature, PlaceholderCode, PlaceholderMinutes)
		}
	}
	return nil
}

// RenderInput is what a message is rendered from.
type RenderInput struct {
	// Scenario is a gen.Scenario value.
	Scenario string
	// Lang is the X-L header ("zh-CN", "en_US", ""); only its primary
	// subtag counts.
	Lang string
	// DefaultLang is the application's language, used when Lang is neither
	// Chinese nor English.
	DefaultLang string
	// Code is the one-time code.
	Code string
	// TTL is how long the code is valid; the text says it in whole
	// minutes, rounded up, at least 1.
	TTL time.Duration
	// Signature is put where {signature} is, as is: "【Example】" for
	// mainland China, "[Example] " elsewhere.
	Signature string
	// Domain, when it is a host name, adds the last line "@domain #code":
	// the origin-bound one-time code format that WebOTP in browsers and
	// iOS Security Code AutoFill read to fill the code in on that site only.
	Domain string
}

// Render returns the message text and the language it is in ("zh" or
// "en"): the X-L language if it is Chinese or English, else the
// application's default language if it is, else English. Placeholders are
// replaced in one pass, so a code or a signature that contains a
// placeholder is written out literally, never expanded.
func (t *Templates) Render(in RenderInput) (text, lang string) {
	lang = pickLang(in.Lang, in.DefaultLang)
	tmpl, ok := t.texts[lang][gen.Scenario(in.Scenario)]
	if !ok {
		tmpl = genericTexts[lang]
	}
	domain := in.Domain != "" && ValidDomain(in.Domain)
	var b strings.Builder
	size := len(tmpl) + len(in.Signature) + len(in.Code) + 20
	if domain {
		size += 4 + len(in.Domain) + len(in.Code)
	}
	b.Grow(size)
	fill(&b, tmpl, in.Signature, in.Code, Minutes(in.TTL))
	if domain {
		b.WriteString("\n@")
		b.WriteString(in.Domain)
		b.WriteString(" #")
		b.WriteString(in.Code)
	}
	return b.String(), lang
}

// fill writes tmpl to b with each placeholder replaced, in one left-to-right
// pass as a strings.Replacer over the three placeholders would: what is put
// in is never scanned again, and a "{" that opens no placeholder is copied
// as is.
func fill(b *strings.Builder, tmpl, signature, code string, minutes int) {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return
		}
		b.WriteString(tmpl[:i])
		tmpl = tmpl[i:]
		switch {
		case strings.HasPrefix(tmpl, PlaceholderSignature):
			b.WriteString(signature)
			tmpl = tmpl[len(PlaceholderSignature):]
		case strings.HasPrefix(tmpl, PlaceholderCode):
			b.WriteString(code)
			tmpl = tmpl[len(PlaceholderCode):]
		case strings.HasPrefix(tmpl, PlaceholderMinutes):
			var n [20]byte
			b.Write(strconv.AppendInt(n[:0], int64(minutes), 10))
			tmpl = tmpl[len(PlaceholderMinutes):]
		default:
			b.WriteByte('{')
			tmpl = tmpl[1:]
		}
	}
}

// Minutes is a code lifetime in whole minutes, rounded up, at least 1: the
// text must never promise more time than the code has, nor say 0.
func Minutes(ttl time.Duration) int {
	m := int((ttl + time.Minute - 1) / time.Minute)
	return max(m, 1)
}

// pickLang returns zh or en from an X-L value, else from the application's
// default, else en.
func pickLang(xl, def string) string {
	for _, l := range []string{xl, def} {
		if p := primarySubtag(l); p == LangChinese || p == LangEnglish {
			return p
		}
	}
	return LangEnglish
}

// primarySubtag is the lower-cased language before the first "-" or "_".
func primarySubtag(lang string) string {
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return strings.ToLower(lang)
}

// ValidDomain reports whether s can follow "@" in an origin-bound one-time
// code line: a host name of dot-separated labels of letters, digits and
// inner hyphens, at most 253 characters. Anything else (a scheme, a port, a
// space, a line break) would break the line or let it name another site.
func ValidDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func copyTexts(in map[string]map[gen.Scenario]string) map[string]map[gen.Scenario]string {
	out := make(map[string]map[gen.Scenario]string, len(in))
	for lang, byScenario := range in {
		m := make(map[gen.Scenario]string, len(byScenario))
		for sc, text := range byScenario {
			m[sc] = text
		}
		out[lang] = m
	}
	return out
}
