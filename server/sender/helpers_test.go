package sender_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/smscode/smscode/server/servertest"
)

// The OneAccess example request's headers.
func seedHeaders() map[string]string {
	return map[string]string{
		"Content-Type":            "application/json;charset=utf8",
		"X-operating-sys-version": "Android 10",
		"X-device-fingerprint":    "156aysdna213sac",
		"X-device-ip":             "10.10.10.1",
		"X-agent":                 "Mozilla/5.0 (Linux; Android 10; Redmi K30 Build/QKQ1.190825.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/80.0.3987.99 Mobile Safari/537.36",
		"X-L":                     "zh",
		"X-client-id":             servertest.ClientID,
		"X-tenant-id":             servertest.TenantID,
	}
}

// reply is an HTTP answer, decoded.
type reply struct {
	Status     int
	Code       string // error_code, for non-2xx
	Msg        string // error_msg
	RetryAfter int    // Retry-After, 0 when absent
	Header     http.Header
	Body       []byte
}

// call is one request; edit changes the seed headers (a "" value deletes one).
type call struct {
	path string
	hdr  map[string]string
	body any
	get  bool // a GET with no body (and no Content-Type) instead of a POST
}

func do(t *testing.T, env *servertest.Env, c call) reply {
	t.Helper()
	method, reqBody := http.MethodPost, io.Reader(nil)
	if c.get {
		method = http.MethodGet
	} else {
		raw, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		reqBody = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, env.URL+c.path, reqBody)
	if err != nil {
		t.Fatal(err)
	}
	h := seedHeaders()
	if c.get {
		delete(h, "Content-Type")
	}
	for k, v := range c.hdr {
		h[k] = v
	}
	for k, v := range h {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := reply{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		r.RetryAfter, _ = strconv.Atoi(ra)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("error body %q: %v", body, err)
		}
		r.Code, r.Msg = e.Code, e.Msg
	}
	return r
}

// send posts a send request for mobile and scenario with the seed's token.
func send(t *testing.T, env *servertest.Env, mobile, scenario string, hdr map[string]string) reply {
	t.Helper()
	return do(t, env, call{path: "/api/v2/sdk/sms/send", hdr: hdr, body: map[string]string{
		"mobile": mobile, "type": scenario, "captcha_token": servertest.CaptchaToken}})
}

func verify(t *testing.T, env *servertest.Env, mobile, scenario, code string, hdr map[string]string) reply {
	t.Helper()
	return do(t, env, call{path: "/api/v2/sdk/sms/verify", hdr: hdr, body: map[string]string{
		"mobile": mobile, "type": scenario, "verify_code": code}})
}

// wantError fails the test unless r is the given status and code.
func wantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", r.Status, r.Code, r.Body, status, code)
	}
}

func wantOK(t *testing.T, r reply) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", r.Status, r.Body)
	}
}
