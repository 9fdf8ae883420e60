package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
	"github.com/smscode/smscode/server"
)

func set(name, value string) func(http.Header) {
	return func(h http.Header) { h.Set(name, value) }
}

func del(name string) func(http.Header) {
	return func(h http.Header) { h.Del(name) }
}

func both(fs ...func(http.Header)) func(http.Header) {
	return func(h http.Header) {
		for _, f := range fs {
			f(h)
		}
	}
}

func without(key string) func(map[string]any) {
	return func(m map[string]any) { delete(m, key) }
}

func with(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

// chunked hides a body's length, so the client sends it chunked and only
// reading it can find it too large.
type chunked struct{ io.Reader }

// Every malformed request gets its documented code, the catalog message
// and nothing else, and never reaches the service.
func TestMalformedRequests(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name    string
		method  string // POST when empty
		path    string // the send path when empty
		headers func(http.Header)
		body    string
		chunked bool   // send the body without a length
		code    string // the expected error_code
		leak    string // a submitted value the answer must not echo
	}{
		// X-client-id: missing or empty APP.0002, malformed APP.0004.
		{name: "client id missing", headers: del("X-client-id"), body: seedBody, code: "APP.0002"},
		{name: "client id empty", headers: set("X-client-id", ""), body: seedBody, code: "APP.0002"},
		{name: "client id too long", headers: set("X-client-id", long(65)), body: seedBody, code: "APP.0004", leak: long(65)},
		{name: "client id bad characters", headers: set("X-client-id", "app<script>"), body: seedBody, code: "APP.0004", leak: "script"},
		{name: "client id repeated", headers: func(h http.Header) { h.Add("X-client-id", "second") }, body: seedBody, code: "APP.0004"},
		// X-tenant-id: optional, but empty or malformed is APP.0005.
		{name: "tenant id empty", headers: set("X-tenant-id", ""), body: seedBody, code: "APP.0005"},
		{name: "tenant id too long", headers: set("X-tenant-id", long(65)), body: seedBody, code: "APP.0005"},
		{name: "tenant id bad characters", headers: set("X-tenant-id", "t/../x"), body: seedBody, code: "APP.0005"},
		// The device headers.
		{name: "os version missing", headers: del("X-operating-sys-version"), body: seedBody, code: "HEADER.0001"},
		{name: "os version empty", headers: set("X-operating-sys-version", ""), body: seedBody, code: "HEADER.0001"},
		{name: "os version too long", headers: set("X-operating-sys-version", long(65)), body: seedBody, code: "HEADER.0001"},
		{name: "fingerprint missing", headers: del("X-device-fingerprint"), body: seedBody, code: "HEADER.0002"},
		{name: "fingerprint empty", headers: set("X-device-fingerprint", ""), body: seedBody, code: "HEADER.0002"},
		{name: "fingerprint too long", headers: set("X-device-fingerprint", long(129)), body: seedBody, code: "HEADER.0002"},
		{name: "fingerprint with a space", headers: set("X-device-fingerprint", "abc def"), body: seedBody, code: "HEADER.0002"},
		{name: "agent missing", headers: del("X-agent"), body: seedBody, code: "HEADER.0003"},
		{name: "agent empty", headers: set("X-agent", ""), body: seedBody, code: "HEADER.0003"},
		{name: "agent too long", headers: set("X-agent", long(513)), body: seedBody, code: "HEADER.0003"},
		{name: "agent not ASCII", headers: set("X-agent", "Mozilla/5.0 \u00e9"), body: seedBody, code: "HEADER.0003"},
		{name: "device ip empty", headers: set("X-device-ip", ""), body: seedBody, code: "HEADER.0004"},
		{name: "device ip not an address", headers: set("X-device-ip", "999.1.1.1"), body: seedBody, code: "HEADER.0004", leak: "999.1.1.1"},
		{name: "device ip bad characters", headers: set("X-device-ip", "localhost"), body: seedBody, code: "HEADER.0004"},
		{name: "device ip too long", headers: set("X-device-ip", strings.Repeat("1", 46)), body: seedBody, code: "HEADER.0004"},
		{name: "device ip with a zone", headers: set("X-device-ip", "fe80::1%eth0"), body: seedBody, code: "HEADER.0004"},
		// X-L: a language list (see TestLanguageLists), refused only when it
		// is not one at all or is too long.
		{name: "language malformed", headers: set("X-L", "en!"), body: seedBody, code: "HEADER.0005"},
		{name: "language not a tag", headers: set("X-L", "x"), body: seedBody, code: "HEADER.0005"},
		{name: "language bad weight", headers: set("X-L", "en;q=abc"), body: seedBody, code: "HEADER.0005"},
		{name: "language list of non-tags", headers: set("X-L", "a,b,c"), body: seedBody, code: "HEADER.0005"},
		{name: "language not ASCII", headers: set("X-L", "中文"), body: seedBody, code: "HEADER.0005"},
		{name: "language too long", headers: set("X-L", "en-US,"+strings.Repeat("zh;q=0.9,", 22)), body: seedBody, code: "HEADER.0005"},
		{name: "language repeated", headers: func(h http.Header) { h.Add("X-L", "zh") }, body: seedBody, code: "HEADER.0005"},
		// The body as a whole.
		{name: "body not JSON", headers: nil, body: `{"mobile": 123`, code: "REQ.0001"},
		{name: "body an array", body: `[` + sendJSON(nil) + `]`, code: "REQ.0001"},
		{name: "body a string", body: `"hello"`, code: "REQ.0001"},
		{name: "body null", body: `null`, code: "REQ.0001"},
		{name: "body empty", body: ``, code: "REQ.0001"},
		{name: "body blank", body: "  \n ", code: "REQ.0001"},
		{name: "body with trailing data", body: sendJSON(nil) + `{}`, code: "REQ.0001"},
		{name: "body with trailing garbage", body: sendJSON(nil) + ` x`, code: "REQ.0001"},
		// A member named twice is refused, on the fast path (a flat body of
		// strings) and on encoding/json's (a number, an escape), for send
		// and verify: a gateway reading the first would see another request.
		{name: "body mobile twice", body: `{"mobile":"1",` + sendJSON(nil)[1:], code: "REQ.0001"},
		{name: "body type twice, the same value", body: sendJSON(nil)[:len(sendJSON(nil))-1] + `,"type":"BIND_MOBILE_SMS"}`, code: "REQ.0001"},
		{name: "body mobile twice, a number first", body: `{"mobile":1,` + sendJSON(nil)[1:], code: "REQ.0001"},
		{name: "body mobile twice, escaped", body: `{"mobil\u0065":"1",` + sendJSON(nil)[1:], code: "REQ.0001"},
		{name: "body unknown member twice", body: `{"x":"1","x":"2",` + sendJSON(nil)[1:], code: "REQ.0001"},
		{name: "verify code twice", path: verifyPath, body: `{"verify_code":"000000",` + verifyJSON(nil)[1:], code: "REQ.0001"},
		{name: "verify code twice, a number first", path: verifyPath, body: `{"verify_code":0,` + verifyJSON(nil)[1:], code: "REQ.0001"},
		{name: "unknown member", body: sendJSON(with("phone", "12345678901")), code: "REQ.0004"},
		{name: "member in other case", body: sendJSON(func(m map[string]any) { m["Mobile"] = m["mobile"] }), code: "REQ.0004"},
		// mobile
		{name: "mobile missing", body: sendJSON(without("mobile")), code: "PARAM.0001"},
		{name: "mobile a number", body: sendJSON(with("mobile", 12345678901)), code: "USER.0038"},
		{name: "mobile null", body: sendJSON(with("mobile", nil)), code: "USER.0038"},
		{name: "mobile empty", body: sendJSON(with("mobile", "")), code: "USER.0038"},
		{name: "mobile too long", body: sendJSON(with("mobile", "+12345678901234567")), code: "USER.0038", leak: "12345678901234567"},
		{name: "mobile ten digits", body: sendJSON(with("mobile", "1234567890")), code: "USER.0038", leak: "1234567890"},
		{name: "mobile letters", body: sendJSON(with("mobile", "1234567890a")), code: "USER.0038"},
		// type
		{name: "type missing", body: sendJSON(without("type")), code: "PARAM.0002"},
		{name: "type unknown", body: sendJSON(with("type", "PAY_SMS")), code: "CAPTCHA.0005", leak: "PAY_SMS"},
		{name: "type lower case", body: sendJSON(with("type", "bind_mobile_sms")), code: "CAPTCHA.0005"},
		{name: "type a number", body: sendJSON(with("type", 4)), code: "CAPTCHA.0005"},
		{name: "type empty", body: sendJSON(with("type", "")), code: "CAPTCHA.0005"},
		// captcha_token
		{name: "token missing", body: sendJSON(without("captcha_token")), code: "PARAM.0005"},
		{name: "token empty", body: sendJSON(with("captcha_token", "")), code: "PARAM.0005"},
		{name: "token too long", body: sendJSON(with("captcha_token", long(2049))), code: "CAPTCHA.0004", leak: long(100)},
		{name: "token not printable", body: sendJSON(with("captcha_token", "abc\tdef")), code: "CAPTCHA.0004"},
		{name: "token not ASCII", body: sendJSON(with("captcha_token", "jeton-\u00e9")), code: "CAPTCHA.0004"},
		{name: "token an object", body: sendJSON(with("captcha_token", map[string]any{"x": 1})), code: "CAPTCHA.0004"},
		// verify
		{name: "verify code missing", path: verifyPath, body: verifyJSON(without("verify_code")), code: "PARAM.0003"},
		{name: "verify code letters", path: verifyPath, body: verifyJSON(with("verify_code", "12ab")), code: "VERIFY.0004"},
		{name: "verify code too short", path: verifyPath, body: verifyJSON(with("verify_code", "123")), code: "VERIFY.0004"},
		{name: "verify code too long", path: verifyPath, body: verifyJSON(with("verify_code", "12345678901")), code: "VERIFY.0004"},
		{name: "verify code a number", path: verifyPath, body: verifyJSON(with("verify_code", 493027)), code: "VERIFY.0004"},
		{name: "verify with a captcha token", path: verifyPath, body: verifyJSON(with("captcha_token", "t")), code: "REQ.0004"},
		{name: "verify mobile missing", path: verifyPath, body: verifyJSON(without("mobile")), code: "PARAM.0001"},
		// Media type, sizes, routes.
		{name: "text/plain", headers: set("Content-Type", "text/plain"), body: seedBody, code: "REQ.0003"},
		{name: "form", headers: set("Content-Type", "application/x-www-form-urlencoded"), body: "mobile=12345678901", code: "REQ.0003"},
		{name: "json lookalike", headers: set("Content-Type", "application/jsonp"), body: seedBody, code: "REQ.0003"},
		{name: "body too large", body: sendJSON(with("captcha_token", long(9000))), code: "REQ.0002"},
		{name: "chunked body too large", body: sendJSON(with("captcha_token", long(9000))), chunked: true, code: "REQ.0002"},
		{name: "headers too large", headers: set("X-Padding", long(17<<10)), body: seedBody, code: "HEADER.0006"},
		{name: "unknown path", path: "/api/v2/sdk/sms/send/13812345678", body: seedBody, code: "REQ.0005"},
		{name: "GET on send", method: http.MethodGet, body: "", code: "REQ.0006"},
		{name: "PUT on verify", method: http.MethodPut, path: verifyPath, body: verifyJSON(nil), code: "REQ.0006"},
		// The slider CAPTCHA's verify (OneAccess's sibling API) and GETs.
		{name: "captcha point missing", path: captchaVerifyPath, body: `{"token":"abc","sender":"12345678901"}`, code: "PARAM.0004"},
		{name: "captcha point empty", path: captchaVerifyPath, body: `{"point_json":"","token":"abc","sender":"12345678901"}`, code: "PARAM.0004"},
		{name: "captcha point not an object", path: captchaVerifyPath, body: `{"point_json":"237","token":"abc","sender":"12345678901"}`, code: "PARAM.0004"},
		{name: "captcha token missing", path: captchaVerifyPath, body: `{"point_json":"{\"x\":1}","sender":"12345678901"}`, code: "PARAM.0005"},
		{name: "captcha token malformed", path: captchaVerifyPath, body: `{"point_json":"{\"x\":1}","token":"a b","sender":"12345678901"}`, code: "CAPTCHA.0004"},
		{name: "captcha sender missing", path: captchaVerifyPath, body: `{"point_json":"{\"x\":1}","token":"abc"}`, code: "PARAM.0001"},
		{name: "captcha sender malformed", path: captchaVerifyPath, body: `{"point_json":"{\"x\":1}","token":"abc","sender":"12"}`, code: "USER.0038"},
		{name: "captcha GET without client id", method: http.MethodGet, path: "/api/v2/sdk/captcha", headers: del("X-client-id"), code: "APP.0002"},
		{name: "country codes bad language", method: http.MethodGet, path: "/api/v2/sdk/country-codes", headers: set("X-L", "!!"), code: "HEADER.0005"},
		{name: "POST on country codes", path: "/api/v2/sdk/country-codes", body: "{}", code: "REQ.0006"},
		// Precedence: X-client-id, the other headers in spec order, the body.
		{name: "client id before other headers", headers: both(del("X-client-id"), del("X-agent"), set("X-device-ip", "x")), body: "[]", code: "APP.0002"},
		{name: "os version before agent", headers: both(del("X-agent"), set("X-operating-sys-version", "")), body: seedBody, code: "HEADER.0001"},
		{name: "device ip before language", headers: both(set("X-L", "!"), set("X-device-ip", "1.2.3")), body: seedBody, code: "HEADER.0004"},
		{name: "language before tenant", headers: both(set("X-tenant-id", "!"), set("X-L", "!")), body: seedBody, code: "HEADER.0005"},
		{name: "headers before body", headers: set("X-tenant-id", ""), body: `nope`, code: "APP.0005"},
		{name: "headers before media type", headers: both(set("X-agent", ""), set("Content-Type", "text/plain")), body: seedBody, code: "HEADER.0003"},
		{name: "mobile before type", body: sendJSON(both2(with("mobile", "1"), with("type", "X"))), code: "USER.0038"},
		{name: "type before token", body: sendJSON(both2(without("type"), without("captcha_token"))), code: "PARAM.0002"},
		{name: "fields before unknown member", body: sendJSON(both2(without("captcha_token"), with("extra", 1))), code: "PARAM.0005"},
	}
	if len(tests) < 35 {
		t.Fatalf("only %d cases", len(tests))
	}
	ts := start(t, server.Config{}, newFake())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := seedHeaders()
			if tt.headers != nil {
				tt.headers(h)
			}
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = sendPath
			}
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = chunked{body}
			}
			r := do(t, ts, method, path, h, body)
			checkError(t, r, tt.code, h.Get("X-L"), tt.leak)
		})
	}
	if s, v := ts.svc.calls(); s+v != 0 {
		t.Errorf("the service was called %d times for malformed requests", s+v)
	}
}

func both2(fs ...func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		for _, f := range fs {
			f(m)
		}
	}
}

// Every spelling of JSON is accepted, and a missing Content-Type is read
// as JSON (the seed's example omits it).
func TestContentTypeSpellings(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	for _, ct := range []string{
		"application/json;charset=utf8",
		"application/json; charset=UTF-8",
		"application/json",
		"APPLICATION/JSON",
		"Application/Json ; charset=utf-8",
		"application/json;charset=gbk",
		"",
	} {
		t.Run(ct, func(t *testing.T) {
			h := seedHeaders()
			if ct == "" {
				h.Del("Content-Type")
			} else {
				h.Set("Content-Type", ct)
			}
			if r := send(t, ts, h, seedBody); r.status != http.StatusOK {
				t.Errorf("status %d, body %s", r.status, r.body)
			}
		})
	}
}

// Header names are case-insensitive, as HTTP says.
func TestHeaderNameCase(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	for name, conv := range map[string]func(string) string{
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
	} {
		t.Run(name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range seedHeaders() {
				h[conv(k)] = v // sent as written: the client does not canonicalize raw map keys
			}
			r := send(t, ts, h, seedBody)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
		})
	}
	ts.svc.mu.Lock()
	defer ts.svc.mu.Unlock()
	for _, s := range ts.svc.sends {
		if s.ClientID != "DRrYIqauawN0I8myTMoDTPys6ezGZxnm" || s.Agent != seedAgent {
			t.Errorf("caller %+v", s.Caller)
		}
	}
}

// X-L takes the language lists real clients send: the service gets the
// language to use ("" for the application's default) and error_msg is in
// it (English when none).
func TestLanguageLists(t *testing.T) {
	const zhMsg, enMsg = "手机号格式不正确。", "Invalid mobile number."
	ts := start(t, server.Config{}, newFake())
	for _, tt := range []struct {
		xl       string
		absent   bool
		wantLang string
	}{
		{xl: "", absent: true, wantLang: ""},
		{xl: "", wantLang: ""},
		{xl: "zh", wantLang: "zh"},
		{xl: "en", wantLang: "en"},
		{xl: "zh-CN", wantLang: "zh"},
		{xl: "zh_CN", wantLang: "zh"},
		{xl: "en-US,zh;q=0.9", wantLang: "en"},
		{xl: "zh-CN,zh;q=0.9", wantLang: "zh"},
		{xl: "zh-CN,zh;q=0.9,en-US;q=0.8,en;q=0.7", wantLang: "zh"},
		{xl: "en;q=0.5, zh", wantLang: "zh"},
		{xl: "zh-TW", wantLang: "zh"},
		{xl: "*", wantLang: ""},
		{xl: "fr-FR,fr;q=0.9", wantLang: ""},
		{xl: "fr-FR,fr;q=0.9,zh;q=0.8", wantLang: "zh"},
		{xl: "ja;q=0, en", wantLang: "en"},
	} {
		name := tt.xl
		switch {
		case tt.absent:
			name = "absent"
		case name == "":
			name = "empty"
		}
		t.Run(name, func(t *testing.T) {
			h := seedHeaders()
			if tt.absent {
				h.Del("X-L")
			} else {
				h.Set("X-L", tt.xl)
			}
			r := send(t, ts, h, seedBody)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
			if got := ts.svc.lastSend().Lang; got != tt.wantLang {
				t.Errorf("the service got Lang %q, want %q", got, tt.wantLang)
			}
			r = send(t, ts, h, sendJSON(with("mobile", "12")))
			want := enMsg
			if tt.wantLang == "zh" {
				want = zhMsg
			}
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), want) {
				t.Errorf("bad mobile: %d %s, want 400 with %q", r.status, r.body, want)
			}
		})
	}
}

// error_msg follows X-L: Chinese for zh and its regions, English otherwise.
func TestErrorLanguage(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	for _, tt := range []struct {
		lang string
		want string
	}{
		{"zh", "手机号格式不正确。"},
		{"zh-CN", "手机号格式不正确。"},
		{"en", "Invalid mobile number."},
		{"en-US", "Invalid mobile number."},
		{"", "Invalid mobile number."},
	} {
		h := seedHeaders()
		if tt.lang == "" {
			h.Del("X-L")
		} else {
			h.Set("X-L", tt.lang)
		}
		r := send(t, ts, h, sendJSON(with("mobile", "12")))
		checkError(t, r, "USER.0038", tt.lang)
		if !strings.Contains(string(r.body), tt.want) {
			t.Errorf("X-L %q: body %s, want %q", tt.lang, r.body, tt.want)
		}
	}
}

// The validator refuses a spec whose parameters the error table does not
// cover, and accepts the embedded one.
func TestNewValidatorCoverage(t *testing.T) {
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kit.NewValidator(spec); err != nil {
		t.Fatalf("embedded spec: %v", err)
	}
	if spec.Servers == nil {
		t.Error("NewValidator changed the caller's spec")
	}
	op := spec.Paths.Find(sendPath).Post
	op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: openapi3.NewHeaderParameter("X-new").WithSchema(openapi3.NewStringSchema())})
	if _, err := kit.NewValidator(spec); err == nil || !strings.Contains(err.Error(), "X-new") {
		t.Errorf("an unmapped header: err = %v", err)
	}
	if _, err := kit.NewValidator(nil); err == nil {
		t.Error("a nil spec was accepted")
	}
}
