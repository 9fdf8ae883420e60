package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// client is shared by every request of the package. Its pool is large
// enough for the concurrent tests (200 requests over two instances), so
// that they do not queue for connections on the client side.
var client = &http.Client{
	Timeout: 15 * time.Second,
	Transport: &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     30 * time.Second,
	},
}

// reply is an answer, decoded.
type reply struct {
	Status     int
	Code       string // error_code of an error answer
	RetryAfter int    // Retry-After in seconds; 0 when absent
	Header     http.Header
	Body       []byte
}

// String describes a reply for failure messages.
func (r reply) String() string {
	return fmt.Sprintf("%d %s %s", r.Status, r.Code, bytes.TrimSpace(r.Body))
}

// headers are the OneAccess example request's headers (as in the sender
// tests), for an application without tenant, with a device fingerprint of
// the caller's choosing: varying it keeps the per-device limit out of tests
// that are about other limits.
func headers(clientID, device string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json;charset=utf8")
	h.Set("X-operating-sys-version", "Android 10")
	h.Set("X-device-fingerprint", device)
	h.Set("X-device-ip", "10.10.10.1")
	h.Set("X-agent", "Mozilla/5.0 (Linux; Android 10; Redmi K30 Build/QKQ1.190825.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/80.0.3987.99 Mobile Safari/537.36")
	h.Set("X-L", "en")
	h.Set("X-client-id", clientID)
	return h
}

// post sends one API request. It returns an error only when no HTTP answer
// came back (or an error answer's body is not the API's JSON), so that it
// can be called from goroutines.
func post(ctx context.Context, url string, h http.Header, body any) (reply, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return reply{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return reply{}, err
	}
	req.Header = h
	return roundTrip(req)
}

func roundTrip(req *http.Request) (reply, error) {
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	r := reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		r.RetryAfter, _ = strconv.Atoi(ra)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Code string `json:"error_code"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Code == "" {
			return r, fmt.Errorf("%s %s: %d with a body that is not an API error: %q", req.Method, req.URL.Path, resp.StatusCode, b)
		}
		r.Code = e.Code
	}
	return r, nil
}

// sendReq is one send request.
type sendReq struct {
	app, mobile, scenario, token, device string
}

// trySend posts a send request to the instance.
func (in *instance) trySend(ctx context.Context, s sendReq) (reply, error) {
	if s.scenario == "" {
		s.scenario = "LOGIN_SMS"
	}
	if s.token == "" {
		s.token = "any-token" // the load app's captcha kind is none
	}
	return post(ctx, in.url+"/api/v2/sdk/sms/send", headers(s.app, s.device),
		map[string]string{"mobile": s.mobile, "type": s.scenario, "captcha_token": s.token})
}

// send is trySend for the test goroutine.
func (in *instance) send(t *testing.T, s sendReq) reply {
	t.Helper()
	r, err := in.trySend(context.Background(), s)
	if err != nil {
		t.Fatalf("instance %s: send: %v", in.name, err)
	}
	return r
}

// verify posts a verify request for the load app's LOGIN_SMS code.
func (in *instance) verify(t *testing.T, mobile, code string) reply {
	t.Helper()
	r, err := post(context.Background(), in.url+"/api/v2/sdk/sms/verify", headers(loadApp, "verifier"),
		map[string]string{"mobile": mobile, "type": "LOGIN_SMS", "verify_code": code})
	if err != nil {
		t.Fatalf("instance %s: verify: %v", in.name, err)
	}
	return r
}

// get asks for a plain GET path such as /readyz.
func (in *instance) get(t *testing.T, path string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, in.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := roundTrip(req)
	if err != nil {
		t.Fatalf("instance %s: GET %s: %v", in.name, path, err)
	}
	return r
}

// want fails the test unless r has the status and, for errors, the code.
func want(t *testing.T, what string, r reply, status int, code string) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Fatalf("%s: got %v, want %d %s", what, r, status, code)
	}
}

// e164 is the E.164 form of an 11-digit mainland number, as the gateway
// receives it.
func e164(mobile string) string { return "+86" + mobile }

// waitFor polls cond every 10 ms until it holds or limit passes, and
// reports how long it took.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}
