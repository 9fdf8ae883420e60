package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/internal/testutil"
	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/metrics"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/sender"
)

// fakeService records the requests it gets and answers as configured.
type fakeService struct {
	mu        sync.Mutex
	sends     []sender.SendRequest
	verifies  []sender.VerifyRequest
	checks    []sender.CaptchaCheck
	result    sender.SendResult
	err       error // returned by Send and Verify
	panicWith any   // when set, Send and Verify panic with it
	readyErr  error
}

func (f *fakeService) Send(ctx context.Context, req sender.SendRequest) (sender.SendResult, error) {
	f.mu.Lock()
	f.sends = append(f.sends, req)
	p, res, err := f.panicWith, f.result, f.err
	f.mu.Unlock()
	if p != nil {
		panic(p)
	}
	return res, err
}

func (f *fakeService) Verify(ctx context.Context, req sender.VerifyRequest) error {
	f.mu.Lock()
	f.verifies = append(f.verifies, req)
	p, err := f.panicWith, f.err
	f.mu.Unlock()
	if p != nil {
		panic(p)
	}
	return err
}

func (f *fakeService) Puzzle(ctx context.Context, c sender.Caller) (slider.Puzzle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slider.Puzzle{Token: "tok", Background: "iVBORw0K", Piece: "iVBORw0K", Y: 10, Width: 310, Height: 155}, f.err
}

func (f *fakeService) CheckCaptcha(ctx context.Context, req sender.CaptchaCheck) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks = append(f.checks, req)
	return req.Token + "---" + req.PointJSON, f.err
}

func (f *fakeService) AltchaChallenge(ctx context.Context, c sender.Caller) (altcha.Challenge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return altcha.Challenge{Algorithm: "SHA-256", Challenge: strings.Repeat("a", 64), MaxNumber: 1000,
		Salt: "00?expires=1&", Signature: strings.Repeat("b", 64)}, f.err
}

func (f *fakeService) CountryCodes(ctx context.Context, c sender.Caller) (sender.CountryCodes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sender.CountryCodes{Preferred: "+86", Codes: []phone.CallingCode{{Code: "+86", Region: "CN"}}}, f.err
}

func (f *fakeService) Ready(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readyErr
}

// update changes the fake's answers while a server uses it.
func (f *fakeService) update(change func(*fakeService)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeService) calls() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sends), len(f.verifies)
}

func (f *fakeService) lastSend() sender.SendRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sends) == 0 {
		return sender.SendRequest{}
	}
	return f.sends[len(f.sends)-1]
}

func (f *fakeService) lastVerify() sender.VerifyRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.verifies) == 0 {
		return sender.VerifyRequest{}
	}
	return f.verifies[len(f.verifies)-1]
}

func newFake() *fakeService {
	return &fakeService{result: sender.SendResult{ResendAfter: 60 * time.Second, ExpiresIn: 300 * time.Second}}
}

// testServer is a running server with its fake service, metrics and log.
type testServer struct {
	*httptest.Server
	svc  *fakeService
	logs *testutil.SyncBuffer
	m    *metrics.Metrics
}

func start(t testing.TB, cfg server.Config, svc *fakeService) *testServer {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New()
	srv, err := server.New(cfg, svc, log, m)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, svc: svc, logs: logs, m: m}
}

const (
	sendPath   = "/api/v2/sdk/sms/send"
	verifyPath = "/api/v2/sdk/sms/verify"
	// captchaVerifyPath is the slider CAPTCHA's verify.
	captchaVerifyPath = "/api/v2/sdk/captcha/verify"
	seedAgent         = seed.Agent
	seedToken         = seed.CaptchaToken
	// seedBody is the seed's example body, as the page prints it.
	seedBody = seed.Body
)

// seedHeaders are the seed's example headers, with the Content-Type the
// page documents.
var seedHeaders = seed.Headers

// sendJSON is the seed's body as compact JSON, after edit.
func sendJSON(edit func(map[string]any)) string {
	m := map[string]any{"mobile": "12345678901", "type": "BIND_MOBILE_SMS", "captcha_token": seedToken}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// verifyJSON is a valid verify body, after edit.
func verifyJSON(edit func(map[string]any)) string {
	m := map[string]any{"mobile": "12345678901", "type": "BIND_MOBILE_SMS", "verify_code": "493027"}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// response is what a test reads back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request. body is sent with a known length; h is used as
// given, so tests can send header names in any letter case.
func do(t testing.TB, ts *testServer, method, path string, h http.Header, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func send(t testing.TB, ts *testServer, h http.Header, body string) response {
	t.Helper()
	return do(t, ts, http.MethodPost, sendPath, h, strings.NewReader(body))
}

// leakMarkers must never appear in an error body: they would mean a
// schema, a pattern, a Go error or a stack reached the caller.
var leakMarkers = []string{"$ref", "schema", "Schema", "pattern", "goroutine", "panic", "openapi3", "^", "runtime", ".go:"}

// checkError asserts that r is the documented error answer for code: the
// code's status, a body with exactly error_code and error_msg, the
// catalog's message in lang, an X-Request-Id, and none of leakMarkers or
// leak in the body.
func checkError(t testing.TB, r response, code, lang string, leak ...string) {
	t.Helper()
	wantStatus := statusOf(code)
	if r.status != wantStatus {
		t.Errorf("status = %d, want %d (body %s)", r.status, wantStatus, r.body)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	if len(body) != 2 {
		t.Errorf("body has keys %v, want exactly error_code and error_msg", keys(body))
	}
	if got := body["error_code"]; got != code {
		t.Errorf("error_code = %v, want %s", got, code)
	}
	if got, want := body["error_msg"], messageOf(code, lang); got != want {
		t.Errorf("error_msg = %v, want %q", got, want)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the error answer")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, s := range append(leakMarkers, leak...) {
		if s != "" && bytes.Contains(r.body, []byte(s)) {
			t.Errorf("body %s contains %q", r.body, s)
		}
	}
}

func statusOf(code string) int { return apierr.Status(gen.ErrorCode(code)) }

func messageOf(code, lang string) string { return apierr.Message(gen.ErrorCode(code), lang) }

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func newHTTPTest(t testing.TB, h http.Handler) *httptest.Server {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}
