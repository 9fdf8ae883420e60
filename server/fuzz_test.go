package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/servertest"
)

// fuzzRoutes are the method and path pairs FuzzHandler chooses from (op's
// low bits): every operation of the spec, each with a method it does not
// take, the routes outside the spec, and an unknown path. The path is not
// fuzzed itself: routing is Echo's, and a path with arbitrary bytes is
// refused by net/http before any handler runs.
var fuzzRoutes = []struct{ method, path string }{
	{http.MethodPost, "/api/v2/sdk/sms/send"},
	{http.MethodPost, "/api/v2/sdk/sms/verify"},
	{http.MethodPost, "/api/v2/sdk/captcha/verify"},
	{http.MethodGet, "/api/v2/sdk/captcha"},
	{http.MethodGet, "/api/v2/sdk/country-codes"},
	{http.MethodGet, "/api/v2/sdk/sms/send"},
	{http.MethodPut, "/api/v2/sdk/sms/verify"},
	{http.MethodHead, "/api/v2/sdk/sms/send"},
	{http.MethodPost, "/api/v2/sdk/captcha"},
	{http.MethodDelete, "/api/v2/sdk/country-codes"},
	{http.MethodGet, "/healthz"},
	{http.MethodGet, "/readyz"},
	{http.MethodPost, "/healthz"},
	{http.MethodPost, "/api/v2/sdk/sms/send/"},
	{http.MethodPost, "/api/v2/sdk/sms/unknown"},
	{http.MethodOptions, "/api/v2/sdk/sms/send"},
	{http.MethodHead, "/healthz"},
	{http.MethodHead, "/api/v2/sdk/country-codes"},
	{http.MethodPatch, "/api/v2/sdk/captcha/verify"},
	{http.MethodGet, "/"},
	{http.MethodGet, "/api/v2/sdk/captcha/altcha"},
}

// fuzzHeaders are the request headers FuzzHandler sets, in the order of its
// string arguments. Bit i of the present mask decides whether header i is
// sent at all, so that "absent" and "empty" are both explored.
var fuzzHeaders = []string{
	"X-client-id",
	"X-tenant-id",
	"X-operating-sys-version",
	"X-device-fingerprint",
	"X-device-ip",
	"X-agent",
	"X-L",
	"X-Request-Id",
	"Content-Type",
}

// Flags in FuzzHandler's op argument, above the route index.
const (
	opRouteMask = 0x1f  // index into fuzzRoutes, modulo its length
	opChunked   = 0x40  // send the body without a Content-Length
	opRepeat    = 0x80  // send every present header twice
	allHeaders  = 0x1ff // every bit of FuzzHandler's present mask
)

// generatedRequestID is the shape of the ids the server makes up itself
// (crypto/rand.Text: 26 base32 characters).
var generatedRequestID = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// validRequestID is the spec's XRequestId schema: the ids echoed back.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// FuzzHandler drives the whole HTTP handler (the real server: validator,
// middleware, send pipeline, in-memory store and recording provider) with
// arbitrary header values and bodies, and checks the API's promises on every
// answer:
//
//   - no 5xx: with a healthy store and provider nothing may fail on the
//     server's side, whatever the request;
//   - every non-2xx answer is the spec's Error body, byte for byte the JSON
//     of {error_code, error_msg} and nothing else, its code is in the
//     catalog with the answer's status, and its message is the catalog's in
//     the language of X-L, so that no schema, pattern, Go error or submitted
//     value can reach the caller;
//   - the response headers are the documented ones, with values of the
//     documented shapes (X-Request-Id is echoed only when it is a valid id);
//   - a 2xx answer is JSON, or empty for 204 and HEAD.
//
// The server is built once: building it per input would cost more than the
// request. Its fake clock moves 61 s per input so that the cooldown and
// the hourly limits do not leave every later send refused with a 429.
func FuzzHandler(f *testing.F) {
	env := servertest.New(f)
	h := env.Runtime.Server.Handler()

	seed := []string{
		servertest.ClientID, servertest.TenantID, "Android 10", "156aysdna213sac", "10.10.10.1",
		seedAgent, "zh", "fuzz-seed-1", "application/json;charset=utf8",
	}
	// add adds a seed: the OneAccess example with edit applied to its
	// header values (by index in fuzzHeaders) and the given body.
	add := func(op uint8, present uint16, edit map[int]string, body string) {
		v := append([]string(nil), seed...)
		for i, s := range edit {
			v[i] = s
		}
		f.Add(op, present, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], []byte(body))
	}
	const all = allHeaders
	verifyBody := `{"mobile":"12345678901","type":"BIND_MOBILE_SMS","verify_code":"493027"}`
	add(0, all, nil, seedBody)                                 // the seed example: 200
	add(0, all, nil, seedBody)                                 // again, a cooldown later: 200
	add(0, all&^1, nil, seedBody)                              // no X-client-id
	add(0, all, map[int]string{0: "nope"}, seedBody)           // unknown app
	add(0, all, map[int]string{0: "a b"}, seedBody)            // malformed app id
	add(0, all, map[int]string{1: ""}, seedBody)               // empty tenant
	add(0, all, map[int]string{4: "999.1.1.1"}, seedBody)      // not an IP
	add(0, all, map[int]string{6: "not a tag!"}, "")           // bad X-L
	add(0, all, map[int]string{6: "en-US,zh;q=0.9"}, seedBody) // an X-L list
	add(0, all, map[int]string{6: "*"}, seedBody)
	add(0, all, nil, `{"mobile":"1","mobile":"12345678901","type":"BIND_MOBILE_SMS","captcha_token":"x"}`) // a member twice
	add(0, all, nil, `{"mobile":1,"mobile":"12345678901","type":"BIND_MOBILE_SMS","captcha_token":"x"}`)
	add(0, all, map[int]string{8: "text/plain"}, seedBody) // 415
	add(0, all, map[int]string{8: ""}, seedBody)           // no Content-Type: JSON
	add(0, all, nil, `{"mobile":"12345678901"`)            // truncated JSON
	add(0, all, nil, `{"mobile":"12345678901","type":"BIND_MOBILE_SMS","captcha_token":"x"} {}`)
	add(0, all, nil, `[]`)
	add(0, all, nil, `{"mobile":12345678901,"type":"BIND_MOBILE_SMS","captcha_token":"x"}`)
	add(0, all, nil, `{"mobile":"+8612345678901","type":"NOPE","captcha_token":"x","extra":1}`)
	add(0, all, nil, `{"mobile":"1234\u0000","type":"LOGIN_SMS","captcha_token":"71d---{\"x\":1e309}"}`)
	add(opChunked, all, nil, seedBody)
	add(opRepeat, all, nil, seedBody)           // every header twice
	add(0, all, nil, strings.Repeat("9", 9000)) // over the 8 KiB body limit
	add(1, all, nil, verifyBody)
	add(1, all, nil, `{"mobile":"12345678901","type":"BIND_MOBILE_SMS","verify_code":"12ab"}`)
	add(2, all, nil, `{"point_json":"{\"x\":237.0,\"y\":5.0}","token":"0123456789abcdef0123456789abcdef","sender":"12345678901"}`)
	add(2, all, nil, `{"point_json":"{\"x\":\"NaN\"}","token":"71d******635","sender":"+86"}`)
	add(3, all, nil, "")
	add(4, all, map[int]string{6: "en-US"}, "")
	add(5, all, nil, seedBody)  // 405
	add(7, all, nil, seedBody)  // HEAD: error without a body
	add(14, all, nil, seedBody) // 404
	add(10, 0, nil, "")         // /healthz, no headers at all
	add(20, all, nil, "")       // the ALTCHA challenge of a slider app: 404

	f.Fuzz(func(t *testing.T, op uint8, present uint16,
		clientID, tenantID, osVersion, fingerprint, deviceIP, agent, lang, requestID, contentType string, body []byte) {
		env.Clock.Advance(61 * time.Second)
		env.Outbox.Reset() // keep memory flat over a long run

		route := fuzzRoutes[int(op&opRouteMask)%len(fuzzRoutes)]
		var rd io.Reader = bytes.NewReader(body)
		if op&opChunked != 0 {
			rd = struct{ io.Reader }{rd} // hides the length: ContentLength -1
		}
		req := httptest.NewRequest(route.method, route.path, rd)
		if op&opChunked != 0 {
			req.ContentLength = -1
		}
		values := []string{clientID, tenantID, osVersion, fingerprint, deviceIP, agent, lang, requestID, contentType}
		sent := http.Header{}
		for i, name := range fuzzHeaders {
			if present&(1<<i) == 0 {
				continue
			}
			v := wireValue(values[i])
			req.Header.Set(name, v)
			sent.Set(name, v)
			if op&opRepeat != 0 {
				req.Header.Add(name, v)
			}
		}

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		got := rec.Body.Bytes()

		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", route.method, route.path, res.StatusCode, got)
		}
		checkResponseHeaders(t, res.Header, sent)
		if res.StatusCode < 300 {
			// 204 (Echo's answer to OPTIONS) and HEAD have no body; every
			// other success is JSON.
			switch {
			case res.StatusCode == http.StatusNoContent || route.method == http.MethodHead:
				if len(got) != 0 {
					t.Fatalf("%s %s: %d with a body %q", route.method, route.path, res.StatusCode, got)
				}
			case !json.Valid(got):
				t.Fatalf("%s %s: %d with a body that is not JSON: %q", route.method, route.path, res.StatusCode, got)
			}
			return
		}
		if route.method == http.MethodHead {
			if len(got) != 0 {
				t.Fatalf("HEAD answered %d with a body %q", res.StatusCode, got)
			}
			return
		}
		checkErrorBody(t, res.StatusCode, got, sent.Get("X-L"))
	})
}

// wireValue is v as a handler can receive it from net/http: the server
// refuses requests whose header values hold control characters other than
// tab (400, before any handler), and textproto trims the blanks around a
// value. Feeding the handler values it can never see would only find
// failures that cannot happen.
func wireValue(v string) string {
	v = strings.Map(func(r rune) rune {
		if (r < ' ' && r != '\t') || r == 0x7f {
			return -1
		}
		return r
	}, v)
	return strings.Trim(v, " \t")
}

// checkErrorBody asserts that body is exactly the Error JSON that the
// catalog gives for its code and the X-L value lang, and that the code's
// status is status.
func checkErrorBody(t *testing.T, status int, body []byte, lang string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var e struct {
		Code *string `json:"error_code"`
		Msg  *string `json:"error_msg"`
	}
	if err := dec.Decode(&e); err != nil || e.Code == nil || e.Msg == nil {
		t.Fatalf("%d: body %q is not {error_code, error_msg}: %v", status, body, err)
	}
	entry, ok := apierr.Lookup(gen.ErrorCode(*e.Code))
	if !ok {
		t.Fatalf("%d: error_code %q is not in the catalog", status, *e.Code)
	}
	if entry.Status != status {
		t.Fatalf("error_code %s answered with %d; the catalog says %d", *e.Code, status, entry.Status)
	}
	want := apierr.Message(entry.Code, lang)
	if *e.Msg != want {
		t.Fatalf("error_code %s: error_msg %q, want the catalog's %q (X-L %q)", *e.Code, *e.Msg, want, lang)
	}
	// Byte for byte: nothing beside the two members, no other spelling.
	exact, err := json.Marshal(gen.Error{ErrorCode: entry.Code, ErrorMsg: want})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSuffix(body, []byte("\n")), exact) {
		t.Fatalf("error body %q, want exactly %q", body, exact)
	}
}

// fuzzResponseHeaders are the headers an answer may have, with a check of
// each value (sent is the request's headers).
var fuzzResponseHeaders = map[string]func(v string, sent http.Header) bool{
	"Content-Type": func(v string, _ http.Header) bool {
		return v == "application/json" || strings.HasPrefix(v, "application/json;") ||
			strings.HasPrefix(v, "text/plain;") || v == "application/yaml"
	},
	"Cache-Control": func(v string, _ http.Header) bool { return v == "no-store" },
	"Retry-After": func(v string, _ http.Header) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n > 0
	},
	"X-Request-Id": func(v string, sent http.Header) bool {
		if id := sent.Get("X-Request-Id"); validRequestID.MatchString(id) {
			return v == id
		}
		return generatedRequestID.MatchString(v)
	},
	"X-Resend-After":    func(v string, _ http.Header) bool { _, err := strconv.Atoi(v); return err == nil },
	"X-Code-Expires-In": func(v string, _ http.Header) bool { _, err := strconv.Atoi(v); return err == nil },
	"Vary":              func(v string, _ http.Header) bool { return v != "" && !strings.ContainsAny(v, "\r\n") },
	// Echo's 405 lists the route's methods, as RFC 9110 requires; the
	// spec does not document it.
	"Allow": func(v string, _ http.Header) bool { return allowList.MatchString(v) },
}

// allowList is an Allow header value: methods, comma separated.
var allowList = regexp.MustCompile(`^[A-Z]+(, [A-Z]+)*$`)

// checkResponseHeaders asserts that every response header is a documented
// one, once, with a value of its documented shape: a header can leak a
// submitted value as surely as a body can.
func checkResponseHeaders(t *testing.T, h http.Header, sent http.Header) {
	t.Helper()
	if len(h.Values("X-Request-Id")) != 1 {
		t.Fatalf("X-Request-Id %q: want exactly one", h.Values("X-Request-Id"))
	}
	for name, vs := range h {
		check, ok := fuzzResponseHeaders[name]
		if !ok {
			t.Fatalf("undocumented response header %s: %q", name, vs)
		}
		if len(vs) != 1 || !check(vs[0], sent) {
			t.Fatalf("response header %s: %q", name, vs)
		}
	}
}
