package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
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
