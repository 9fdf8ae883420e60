package kit

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// kinHeaderFailure is how the validator judged the headers before it had
// precompiled rules: its own repeated and check tests, then kin-openapi's
// ValidateRequest without the body.
func kinHeaderFailure(t *testing.T, v *validator, op *operation, req *http.Request) failure {
	best := noFailure
	consider := func(f failure) {
		if f.before(best) {
			best = f
		}
	}
	for _, h := range op.headers {
		vals := req.Header[h.key]
		r := &rules[h.rule]
		switch {
		case len(vals) > 1:
			consider(failure{h.rule, r.invalid, "repeated"})
		case len(vals) == 1 && vals[0] != "" && r.check != nil && !r.check(vals[0]):
			consider(failure{h.rule, r.invalid, "check"})
		}
	}
	opts := *v.opts
	opts.ExcludeRequestBody = true
	input := &openapi3filter.RequestValidationInput{Request: req, Route: op.route, Options: &opts}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		collect(err, consider)
	}
	return best
}

// TestHeaderChecksMatchKinOpenAPI: on random header sets, the precompiled
// header checks give the fault (rule, code and keyword) that kin-openapi's
// parameter validation gave, for every operation of the spec.
func TestHeaderChecksMatchKinOpenAPI(t *testing.T) {
	v := specValidator(t)
	values := []string{
		"", " ", "a", "zh", "zh-CN", "en_US", "x-", "10.10.10.1", "::1", "999.1.1.1", ":::", "fe80::1%eth0",
		"Android 10", "156aysdna213sac", "DRrYIqauawN0I8myTMoDTPys6ezGZxnm", "a b", "a\tb", "é", "验证",
		"\xff", "abc\x00", "a/b", "-_-", strings.Repeat("a", 33), strings.Repeat("a", 35), strings.Repeat("a", 36),
		strings.Repeat("b", 45), strings.Repeat("b", 46), strings.Repeat("c", 64), strings.Repeat("c", 65),
		strings.Repeat("d", 128), strings.Repeat("d", 129), strings.Repeat("e", 512), strings.Repeat("e", 513),
		strings.Repeat("é", 20), strings.Repeat("验", 40), "zh-abcdefghi", "zhx-1", "Zh-Hans-CN",
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	n := 0
	for key, op := range v.routes {
		if len(op.params) != 0 {
			t.Errorf("%v: %d parameters left to kin-openapi, want 0", key, len(op.params))
		}
		for range 20000 {
			req := httptest.NewRequest(key.method, "/", nil)
			for _, h := range op.headers {
				name := h.key
				if rnd.IntN(2) == 0 {
					name = strings.ToLower(name) // as a client may write it; Go canonicalizes
				}
				switch k := rnd.IntN(10); {
				case k == 0: // absent
				case k == 1:
					req.Header[h.key] = []string{} // present without a value
				case k == 2:
					req.Header.Add(name, values[rnd.IntN(len(values))])
					req.Header.Add(name, values[rnd.IntN(len(values))])
				default:
					req.Header.Add(name, values[rnd.IntN(len(values))])
				}
			}
			want := kinHeaderFailure(t, v, op, req)
			got := noFailure
			for _, h := range op.headers {
				if f := h.check(req.Header); f.rule >= 0 && f.before(got) {
					got = f
				}
			}
			if got != want {
				t.Fatalf("%v %q: got %+v, kin-openapi %+v", key, req.Header, got, want)
			}
			if want.rule >= 0 {
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no faulty header set was tried")
	}
}

// TestBodyCheckMatchesKinOpenAPI: on random bodies, the compiled body check
// passes exactly the bodies that kin-openapi passes, with the same decoded
// value, for every operation with a body.
func TestBodyCheckMatchesKinOpenAPI(t *testing.T) {
	v := specValidator(t)
	names := []string{"mobile", "type", "captcha_token", "point_json", "token", "sender", "verify_code", "Mobile", "extra", "", "mobile\u0000"}
	values := []string{
		`""`, `"12345678901"`, `"+447400123456"`, `"+8612345678901"`, `"1234567890"`, `"BIND_MOBILE_SMS"`, `"LOGIN_SMS"`, `"login_sms"`,
		`"71d******635---{\"x\":237.0,\"y\":5.0}"`, `"{\"x\":237.0,\"y\":5.0}"`, `"{}"`, `"{"`, `"493027"`, `"12ab"`, `"1234"`, `"12345678901"`,
		`"4Xy7b0kq2QxV3WzR9cTn8g"`, `"a b"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `"x\u0000"`, `"\u0031\u0032\u0033\u0034"`,
		`"` + strings.Repeat("a", 64) + `"`, `"` + strings.Repeat("a", 65) + `"`, `"` + strings.Repeat("~", 2048) + `"`, `"` + strings.Repeat("~", 2049) + `"`,
		`12345678901`, `1e309`, `null`, `true`, `[]`, `{}`, `["x"]`,
	}
	good := map[string]string{
		"mobile": `"12345678901"`, "sender": `"+447400123456"`, "type": `"LOGIN_SMS"`,
		"captcha_token": `"71d******635---{\"x\":237.0,\"y\":5.0}"`, "point_json": `"{\"x\":237.0,\"y\":5.0}"`,
		"token": `"4Xy7b0kq2QxV3WzR9cTn8g"`, "verify_code": `"493027"`,
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	passed, n := 0, 0
	for key, op := range v.routes {
		if !op.hasBody {
			continue
		}
		if op.bodyCheck == nil {
			t.Errorf("%v: no compiled body check", key)
			continue
		}
		for range 20000 {
			var b strings.Builder
			switch rnd.IntN(20) {
			case 0:
				b.WriteString(values[rnd.IntN(len(values))])
			default:
				// The operation's members, mostly with good values, some
				// left out, some bad, some twice, some unknown.
				b.WriteString("{")
				sep := ""
				member := func(name, value string) {
					b.WriteString(sep + `"` + name + `":` + value)
					sep = ","
				}
				for _, name := range slices.Sorted(maps.Keys(op.bodyCheck.members)) {
					switch k := rnd.IntN(20); {
					case k == 0:
					case k < 4:
						member(name, values[rnd.IntN(len(values))])
					case k == 4:
						member(name, values[rnd.IntN(len(values))])
						member(name, good[name])
					default:
						member(name, good[name])
					}
				}
				if rnd.IntN(10) == 0 {
					member(names[rnd.IntN(len(names))], values[rnd.IntN(len(values))])
				}
				b.WriteString("}")
			}
			data := []byte(b.String())
			if !json.Valid(data) {
				continue // readBody refuses it before
			}
			n++
			gotValue, members, got, dup := op.bodyCheck.pass(data)
			if dup != duplicateMembers(data) {
				t.Fatalf("%v %s: pass says duplicate %v, duplicateMembers %v", key, data, dup, !dup)
			}
			if dup {
				// Refused on every path; kin-openapi alone would keep the
				// last member.
				continue
			}
			req := httptest.NewRequest(key.method, "/", bytes.NewReader(data))
			req.Header.Set("Content-Type", mimeJSON)
			input := &openapi3filter.RequestValidationInput{Request: req, Route: op.route, Options: v.opts}
			kinErr := openapi3filter.ValidateRequestBody(context.Background(), input, op.body)
			if got != (kinErr == nil) {
				t.Fatalf("%v %s: fast path passes %v, kin-openapi: %v", key, data, got, kinErr)
			}
			if got {
				passed++
				// The value our body hands on (for a flat body, made of
				// its members when asked for).
				ours := httptest.NewRequest(key.method, "/", nil)
				keepValidated(ours, data, gotValue, members)
				gotValue = ours.Body.(interface{ ValidatedValue() any }).ValidatedValue()
				vb, ok := req.Body.(interface{ ValidatedValue() any })
				if !ok || !reflect.DeepEqual(vb.ValidatedValue(), gotValue) {
					t.Fatalf("%v %s: value %#v, kin-openapi's %#v", key, data, gotValue, vb)
				}
			}
		}
	}
	if passed == 0 || passed == n {
		t.Fatalf("%d of %d bodies passed: the test tries too little", passed, n)
	}
	t.Logf("%d of %d bodies passed", passed, n)
}
