package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/runtime"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
)

// paramsRecorder is a ServerInterface that records the parameters of a
// send (the other operations are not called).
type paramsRecorder struct {
	genserver.ServerInterface
	got   gen.SendSmsParams
	calls int
}

func (r *paramsRecorder) SendSms(_ echo.Context, p gen.SendSmsParams) error {
	r.got, r.calls = p, r.calls+1
	return nil
}

// TestBindSendSmsIsTheGenerated checks that the send's own header binder
// hands the handler exactly the parameters the generated binder does, and
// the same error, for well-formed headers and for each way they can be
// malformed; and that it binds the well-formed ones itself.
func TestBindSendSmsIsTheGenerated(t *testing.T) {
	full := http.Header{
		"X-Operating-Sys-Version": {"Android 14"}, "X-Device-Fingerprint": {"fp-1"}, "X-Device-Ip": {"10.1.2.3"},
		"X-Agent": {"agent"}, "X-L": {"en_US"}, "X-Client-Id": {"client"}, "X-Tenant-Id": {"tenant"},
	}
	edit := func(change func(http.Header)) http.Header {
		h := full.Clone()
		change(h)
		return h
	}
	for _, tc := range []struct {
		name   string
		header http.Header
		fast   bool // bound by our binder, not handed to the generated one
	}{
		{"every header", full, true},
		{"required only", edit(func(h http.Header) { h.Del("X-Device-Ip"); h.Del("X-L"); h.Del("X-Tenant-Id") }), true},
		{"optional empty", edit(func(h http.Header) { h.Set("X-L", ""); h.Set("X-Tenant-Id", "") }), true},
		{"required missing", edit(func(h http.Header) { h.Del("X-Agent") }), false},
		{"required empty", edit(func(h http.Header) { h.Set("X-Client-Id", "") }), false},
		{"required twice", edit(func(h http.Header) { h.Add("X-Device-Fingerprint", "fp-2") }), false},
		{"optional twice", edit(func(h http.Header) { h.Add("X-Device-Ip", "10.9.9.9") }), false},
		{"optional without a value", edit(func(h http.Header) { h["X-Tenant-Id"] = []string{} }), false},
		{"name not canonical", edit(func(h http.Header) { h.Del("X-Agent"); h["x-agent"] = []string{"agent"} }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			serve := func(h echo.HandlerFunc) error {
				req := httptest.NewRequest(http.MethodPost, sendRoute, nil)
				req.Header = tc.header.Clone()
				return h(e.NewContext(req, httptest.NewRecorder()))
			}
			want := &paramsRecorder{}
			wantErr := serve((&genserver.ServerInterfaceWrapper{Handler: want}).SendSms)

			got := &paramsRecorder{}
			fallbacks := 0
			generated := (&genserver.ServerInterfaceWrapper{Handler: got}).SendSms
			h, ok := fastSendSms(got, func(c echo.Context) error { fallbacks++; return generated(c) })
			if !ok {
				t.Fatal("fastSendSms does not know SendSmsParams: teach bindSendSms the new header")
			}
			gotErr := serve(h)

			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("error %v, generated %v", gotErr, wantErr)
			}
			if got.calls != want.calls || !reflect.DeepEqual(got.got, want.got) {
				t.Errorf("handler got %d calls with %+v, generated %d with %+v", got.calls, got.got, want.calls, want.got)
			}
			if fast := fallbacks == 0; fast != tc.fast {
				t.Errorf("bound by our binder: %v, want %v", fast, tc.fast)
			}
		})
	}
}

// validated is a request body that carries the validator's decoded value,
// as kit's validator leaves it.
type validated struct {
	io.ReadCloser
	value any
}

func (v validated) ValidatedValue() any { return v.value }

// TestBindSendSmsBodyIsBindJSONValue checks that the send's own body
// binder gives the body runtime.BindJSONValue gives (what the generated
// strict handler binds) whenever it binds one, on bodies of every shape
// and the fuzz corpus' bodies, and that it binds the plain ones itself.
func TestBindSendSmsBodyIsBindJSONValue(t *testing.T) {
	bodies := []struct {
		body string
		fast bool
	}{
		{`{"mobile":"12345678901","type":"REGISTER_SMS","captcha_token":"71d---{\"x\":237.0}"}`, true},
		{`{"mobile":"+447400123456","type":"BIND_MOBILE_SMS"}`, true},
		{`{"mobile":"","type":"","captcha_token":""}`, true},
		{`{"type":"NOT_A_SCENARIO"}`, true},
		{`{}`, true},
		{`{"mobile":12345678901,"type":"REGISTER_SMS","captcha_token":"x"}`, false},
		{`{"mobile":null,"type":"REGISTER_SMS"}`, false},
		{`{"mobile":"1","type":true}`, false},
		{`{"mobile":"1","captcha_token":{"a":"b"}}`, false},
		{`{"mobile":"1","captcha_token":["b"]}`, false},
		{`{"mobile":"1","extra":"x"}`, false},
		{`{"Mobile":"1"}`, false},
		{`"mobile"`, false},
		{`["mobile"]`, false},
		{`null`, false},
		{`12`, false},
	}
	// The bodies of the fuzz corpus (the last line of each file).
	corpus, err := filepath.Glob("testdata/fuzz/FuzzHandler/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range corpus {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		last := lines[len(lines)-1]
		body, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(last, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bodies = append(bodies, struct {
			body string
			fast bool
		}{body, false})
	}
	fastOnes := 0
	for _, b := range bodies {
		var value any
		if err := json.Unmarshal([]byte(b.body), &value); err != nil {
			continue // refused by the validator before any binder
		}
		req := httptest.NewRequest(http.MethodPost, sendRoute, nil)
		req.Body = validated{ReadCloser: req.Body, value: value}
		got, ok := bindSendSmsBody(req)
		var want gen.SendSmsRequest
		wantErr := runtime.BindJSONValue(value, &want)
		if ok {
			fastOnes++
			if wantErr != nil || got != want {
				t.Errorf("%s: bound %+v, BindJSONValue %+v (%v)", b.body, got, want, wantErr)
			}
		}
		if b.fast && !ok {
			t.Errorf("%s: left to the generated binder", b.body)
		}
	}
	// Through the real validator, whose flat bodies give their members.
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	validate, err := kit.NewValidator(spec)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(validate)
	var got, want gen.SendSmsRequest
	var ok, members bool
	var wantErr error
	e.POST(sendRoute, func(c echo.Context) error {
		vb, _ := c.Request().Body.(interface{ ValidatedMembers() ([]kit.Member, bool) })
		_, members = vb.ValidatedMembers()
		got, ok = bindSendSmsBody(c.Request())
		want = gen.SendSmsRequest{}
		wantErr = runtime.BindJSONValue(c.Request().Body.(interface{ ValidatedValue() any }).ValidatedValue(), &want)
		return c.NoContent(http.StatusNoContent)
	})
	viaValidator := 0
	for _, b := range bodies {
		req := httptest.NewRequest(http.MethodPost, sendRoute, strings.NewReader(b.body))
		req.Header = http.Header{
			"Content-Type": {"application/json"}, "X-Operating-Sys-Version": {"Android 14"}, "X-Device-Fingerprint": {"fp-1"},
			"X-Agent": {"agent"}, "X-Client-Id": {"client"},
		}
		rec := httptest.NewRecorder()
		ok, members = false, false
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			continue // refused by the validator
		}
		viaValidator++
		if !ok || !members || wantErr != nil || got != want {
			t.Errorf("%s through the validator: bound %+v (%v, from its members: %v), BindJSONValue %+v (%v)", b.body, got, ok, members, want, wantErr)
		}
	}
	if viaValidator < 2 {
		t.Errorf("only %d bodies passed the validator", viaValidator)
	}
	if fastOnes < 5 {
		t.Errorf("only %d bodies bound by our binder", fastOnes)
	}
	// No validated value (a custom validator): the generated binder's.
	if _, ok := bindSendSmsBody(httptest.NewRequest(http.MethodPost, sendRoute, strings.NewReader(`{}`))); ok {
		t.Error("bound a body the validator left undecoded")
	}
}
