package kit

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/internal/seed"
)

// specValidator is the validator of the embedded spec.
func specValidator(t testing.TB) *validator {
	t.Helper()
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	v, err := newValidator(spec, nil, slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// testBodyCheck compiles a body schema given as JSON.
func testBodyCheck(t testing.TB, schema string) *bodyCheck {
	t.Helper()
	var s openapi3.Schema
	if err := json.Unmarshal([]byte(schema), &s); err != nil {
		t.Fatal(err)
	}
	bc, err := newBodyCheck(&openapi3.T{OpenAPI: "3.0.3"}, &openapi3.MediaType{Schema: s.NewRef()})
	if err != nil || bc == nil {
		t.Fatalf("newBodyCheck: %v, %v", bc, err)
	}
	return bc
}

// TestBodyCheckPathsAgree: a flat body (scanMembers reads it) and the same
// object spelled so that it is not flat (a \u escape in a value: the path
// that decodes it with encoding/json into a map) pass or fail alike, on
// each check both paths make: the member is one of the schema's, its value
// passes its rule, the required members are there (a name required twice
// counts once, an optional member not at all). Each body is checked to
// take the path it is meant to.
func TestBodyCheckPathsAgree(t *testing.T) {
	bc := testBodyCheck(t, `{"type":"object","additionalProperties":false,"required":["a","b","a"],
		"properties":{"a":{"type":"string","minLength":1,"maxLength":3},"b":{"type":"string","enum":["x","y"]},"c":{"type":"string"}}}`)
	for _, tc := range []struct {
		name string
		// flat is a flat body; escaped the same object with a character
		// of a value as a \u escape (or, with flat "", one that is not
		// flat for another reason).
		flat    string
		escaped string
		want    bool
	}{
		{"required", `{"a":"1","b":"x"}`, `{"a":"\u0031","b":"x"}`, true},
		{"required and optional", `{"a":"1","b":"x","c":"1"}`, `{"a":"1","b":"x","c":"\u0031"}`, true},
		{"another order", `{"c":"z","b":"y","a":"123"}`, `{"c":"\u007a","b":"y","a":"123"}`, true},
		{"a required member missing", `{"a":"1","c":"z"}`, `{"a":"\u0031","c":"z"}`, false},
		{"the other required member missing", `{"b":"x","c":"z"}`, `{"b":"\u0078","c":"z"}`, false},
		{"only optional", `{"c":"z"}`, `{"c":"\u007a"}`, false},
		{"empty object", `{}`, ``, false},
		{"unknown member", `{"a":"1","b":"x","d":"1"}`, `{"a":"1","b":"x","d":"\u0031"}`, false},
		{"unknown member for a missing one", `{"a":"1","d":"x"}`, `{"a":"1","d":"\u0078"}`, false},
		{"too short", `{"a":"","b":"x"}`, `{"a":"","b":"\u0078"}`, false},
		{"too long", `{"a":"1234","b":"x"}`, `{"a":"\u0031234","b":"x"}`, false},
		{"not in the enum", `{"a":"1","b":"z"}`, `{"a":"1","b":"\u007a"}`, false},
		{"not a string", ``, `{"a":1,"b":"\u0078"}`, false},
		{"null", ``, `{"a":null,"b":"\u0078"}`, false},
		{"not an object", ``, `["\u0031"]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				body string
				flat bool
			}{{tc.flat, true}, {tc.escaped, false}} {
				if c.body == "" {
					continue
				}
				if _, flat, _ := scanMembers([]byte(c.body), nil); flat != c.flat {
					t.Fatalf("%s: flat %v, the test wants %v", c.body, flat, c.flat)
				}
				value, members, ok, dup := bc.pass([]byte(c.body))
				if ok != tc.want || dup {
					t.Errorf("%s: pass ok %v dup %v, want ok %v", c.body, ok, dup, tc.want)
				}
				if ok && (members != nil) != c.flat || ok && (value != nil) == c.flat {
					t.Errorf("%s: value %v, members %v: not the %s path's answer", c.body, value, members, map[bool]string{true: "flat", false: "map"}[c.flat])
				}
			}
		})
	}
}

// A required member named twice does not stand in for a missing one: in
// objectCheck on its own (each required member has its own bit, whatever
// refused duplicates before), and in pass, which refuses the body as a
// duplicate on either path.
func TestRequiredMemberTwiceIsNotTwoMembers(t *testing.T) {
	bc := testBodyCheck(t, `{"type":"object","additionalProperties":false,"required":["a","b"],
		"properties":{"a":{"type":"string"},"b":{"type":"string"}}}`)
	oc := objectCheck{bc: bc}
	for range 2 {
		if !oc.member("a", "1") {
			t.Fatal(`member("a") refused`)
		}
	}
	if oc.complete() {
		t.Error(`"a" twice and no "b": complete`)
	}
	if !oc.member("b", "x") || !oc.complete() {
		t.Error(`"a" and "b": not complete`)
	}
	for _, body := range []string{`{"a":"1","a":"1"}`, `{"a":"\u0031","a":"1"}`} {
		if _, _, ok, dup := bc.pass([]byte(body)); ok || !dup {
			t.Errorf("%s: pass ok %v dup %v, want a duplicate", body, ok, dup)
		}
	}
}

// BenchmarkValidateBody measures the compiled body check of sendSms on
// the seed's body, on each path: flat (scanMembers reads it), and the same
// body with a \u escape in the mobile number, which encoding/json decodes.
func BenchmarkValidateBody(b *testing.B) {
	v := specValidator(b)
	bc := v.routes[routeKey{http.MethodPost, "/api/v2/sdk/sms/send"}].bodyCheck
	for _, c := range []struct{ name, body string }{
		{"flat", seed.Body},
		{"map", strings.Replace(seed.Body, `"12345678901"`, `"\u00312345678901"`, 1)},
	} {
		data := []byte(c.body)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, ok, _ := bc.pass(data); !ok {
					b.Fatalf("%s: refused", data)
				}
			}
		})
	}
}
