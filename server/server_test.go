package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/sender"
)

// The seed's exact example passes validation and reaches the service with
// every header in the Caller and the body as sent.
func TestSeedExample(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	r := send(t, ts, seedHeaders(), seedBody)
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var body string
	if err := json.Unmarshal(r.body, &body); err != nil || body != "OK" {
		t.Errorf("body %s, want the JSON string \"OK\"", r.body)
	}
	for name, want := range map[string]string{"X-Resend-After": "60", "X-Code-Expires-In": "300"} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if n, _ := ts.svc.calls(); n != 1 {
		t.Fatalf("service got %d sends", n)
	}
	got := ts.svc.lastSend()
	want := sender.SendRequest{
		Caller: sender.Caller{
			ClientID:    "DRrYIqauawN0I8myTMoDTPys6ezGZxnm",
			TenantID:    "08f770f51f80d2f40f38c00cb199fd21",
			Lang:        "zh",
			OSVersion:   "Android 10",
			Fingerprint: "156aysdna213sac",
			Agent:       seedAgent,
			ReportedIP:  "10.10.10.1",
			RemoteIP:    "127.0.0.1",
			RequestID:   r.header.Get("X-Request-Id"),
		},
		Mobile:       "12345678901",
		Scenario:     gen.ScenarioBindMobile,
		CaptchaToken: seedToken,
	}
	if got != want {
		t.Errorf("service got\n%+v\nwant\n%+v", got, want)
	}
}

func TestVerify(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	h := seedHeaders()
	h.Del("X-tenant-id")
	h.Del("X-L")
	r := do(t, ts, http.MethodPost, verifyPath, h, strings.NewReader(verifyJSON(nil)))
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"verified":true}` {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	v := ts.svc.lastVerify()
	if v.Code != "493027" || v.Mobile != "12345678901" || v.Scenario != gen.ScenarioBindMobile || v.TenantID != "" || v.Lang != "" {
		t.Errorf("service got %+v", v)
	}
	if v.RequestID == "" || v.RequestID != r.header.Get("X-Request-Id") {
		t.Errorf("request id %q, header %q", v.RequestID, r.header.Get("X-Request-Id"))
	}
}

// Service errors become their documented answers; causes stay in the log.
func TestServiceErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		code       string
		retryAfter string
	}{
		{"limit with retry", apierr.Retry(gen.ErrorCodeTooFrequent, 1500*time.Millisecond), "SMS.0001", "2"},
		{"wrapped api error", fmt.Errorf("checking: %w", apierr.New(gen.ErrorCodeCaptchaWrong)), "CAPTCHA.0002", ""},
		{"provider down", apierr.Retry(gen.ErrorCodeProviderUnavailable, 30*time.Second), "SMS.0007", "30"},
		{"store down", apierr.Wrap(gen.ErrorCodeStoreUnavailable, errors.New("dial tcp 10.0.0.9:6379: refused")), "SYS.0002", ""},
		{"plain error", errors.New("secret cause 13800001111"), "SYS.0001", ""},
		{"deadline", fmt.Errorf("store: %w", context.DeadlineExceeded), "SYS.0002", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newFake()
			svc.err = tt.err
			ts := start(t, server.Config{}, svc)
			r := send(t, ts, seedHeaders(), seedBody)
			checkError(t, r, tt.code, "zh", "secret", "13800001111", "10.0.0.9", "dial")
			if got := r.header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if statusOf(tt.code) >= 500 && !strings.Contains(ts.logs.String(), r.header.Get("X-Request-Id")) {
				t.Error("the 5xx cause was not logged with the request id")
			}
		})
	}
}

// A panicking service is a 500 SYS.0001 with the stack in the log only.
func TestPanic(t *testing.T) {
	svc := newFake()
	svc.panicWith = "kaboom"
	ts := start(t, server.Config{}, svc)
	r := send(t, ts, seedHeaders(), seedBody)
	checkError(t, r, "SYS.0001", "zh", "kaboom")
	logs := ts.logs.String()
	if !strings.Contains(logs, "kaboom") || !strings.Contains(logs, "goroutine") {
		t.Error("the panic and its stack were not logged")
	}
	// The server still answers.
	svc.update(func(f *fakeService) { f.panicWith = nil })
	if r := send(t, ts, seedHeaders(), seedBody); r.status != http.StatusOK {
		t.Errorf("after a panic: status %d", r.status)
	}
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func TestRequestID(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	tests := []struct {
		name, sent, path string
		echoed           bool
	}{
		{"echoed", "abc-123_X.y", sendPath, true},
		{"echoed on errors", "req.42", "/nowhere", true},
		{"64 characters", strings.Repeat("a", 64), sendPath, true},
		{"too long", strings.Repeat("a", 65), sendPath, false},
		{"bad characters", "id with spaces", sendPath, false},
		{"injection", "x\u00e9y", sendPath, false},
		{"absent", "", sendPath, false},
		{"absent on errors", "", "/nowhere", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := seedHeaders()
			if tt.sent != "" {
				h.Set("X-Request-Id", tt.sent)
			}
			r := do(t, ts, http.MethodPost, tt.path, h, strings.NewReader(seedBody))
			got := r.header.Get("X-Request-Id")
			switch {
			case tt.echoed && got != tt.sent:
				t.Errorf("X-Request-Id = %q, want %q echoed", got, tt.sent)
			case !tt.echoed && (got == tt.sent || !requestIDPattern.MatchString(got) || seen[got]):
				t.Errorf("X-Request-Id = %q, want a new id", got)
			}
			seen[got] = true
		})
	}
}

// The client address is the connection's unless a trusted proxy set
// X-Forwarded-For; X-device-ip is never used for it.
func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		xff     string
		want    string
	}{
		{"no proxy, XFF ignored", nil, "203.0.113.7", "127.0.0.1"},
		{"no XFF", []string{"127.0.0.0/8"}, "", "127.0.0.1"},
		{"trusted proxy", []string{"127.0.0.0/8"}, "203.0.113.7", "203.0.113.7"},
		{"trusted proxy as one address", []string{"127.0.0.1"}, "203.0.113.7", "203.0.113.7"},
		{"spoofed left hop", []string{"127.0.0.0/8"}, "198.51.100.1, 203.0.113.7", "203.0.113.7"},
		{"other proxy not trusted", []string{"10.0.0.0/8"}, "203.0.113.7", "127.0.0.1"},
		{"private hop not trusted by default", []string{"127.0.0.0/8"}, "203.0.113.7, 192.168.1.1", "192.168.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, server.Config{TrustedProxies: tt.trusted}, newFake())
			h := seedHeaders()
			h.Set("X-device-ip", "198.18.0.1")
			if tt.xff != "" {
				h.Set("X-Forwarded-For", tt.xff)
			}
			if r := send(t, ts, h, seedBody); r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			c := ts.svc.lastSend().Caller
			if c.RemoteIP != tt.want || c.ReportedIP != "198.18.0.1" {
				t.Errorf("RemoteIP %q ReportedIP %q, want %q and the X-device-ip", c.RemoteIP, c.ReportedIP, tt.want)
			}
		})
	}
}

func TestHealthAndReady(t *testing.T) {
	svc := newFake()
	ts := start(t, server.Config{}, svc)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := do(t, ts, http.MethodGet, path, nil, nil); r.status != http.StatusOK {
			t.Errorf("%s: status %d", path, r.status)
		}
	}
	svc.update(func(f *fakeService) { f.readyErr = errors.New("redis: connection refused") })
	r := do(t, ts, http.MethodGet, "/readyz", nil, nil)
	checkError(t, r, "SYS.0002", "", "redis")
	if r := do(t, ts, http.MethodGet, "/healthz", nil, nil); r.status != http.StatusOK {
		t.Errorf("/healthz while not ready: status %d", r.status)
	}
}

// Both spec documents parse and describe the send operation.
func TestSpecDocuments(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	for _, path := range []string{"/openapi.json", "/openapi.yaml"} {
		r := do(t, ts, http.MethodGet, path, nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", path, r.status)
		}
		doc, err := openapi3.NewLoader().LoadFromData(r.body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if op := doc.Paths.Find(sendPath); op == nil || op.Post == nil || op.Post.Responses.Status(200) == nil {
			t.Errorf("%s: no POST %s with a 200", path, sendPath)
		}
	}
	// /openapi.yaml is the committed file, byte for byte (comments and key
	// order included), not a re-marshalled copy.
	want, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, ts, http.MethodGet, "/openapi.yaml", nil, nil)
	if !bytes.Equal(r.body, want) {
		t.Errorf("/openapi.yaml: %d B served, differs from the %d B of openapi.yaml", len(r.body), len(want))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("/openapi.yaml: Content-Type %q", ct)
	}
}

// Error answers are counted by code and the access log has one line per
// request, with no number, token or header value in it.
func TestMetricsAndAccessLog(t *testing.T) {
	ts := start(t, server.Config{DevMode: true}, newFake())
	send(t, ts, seedHeaders(), sendJSON(with("mobile", "1380000111")))
	send(t, ts, seedHeaders(), seedBody)
	do(t, ts, http.MethodPost, "/api/v2/sdk/sms/send/13812345678", seedHeaders(), strings.NewReader(seedBody))

	r := do(t, ts, http.MethodGet, "/metrics", nil, nil)
	for _, want := range []string{`smscode_errors_total{code="USER.0038"} 1`, `smscode_errors_total{code="REQ.0005"} 1`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	logs := ts.logs.String()
	for _, secret := range []string{"1380000111", "12345678901", "13812345678", "237.0", "DRrYIqauawN0I8myTMoDTPys6ezGZxnm", "156aysdna213sac", "Redmi"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("%d access log lines, want 4:\n%s", len(lines), logs)
	}
	first := lines[0]
	for _, k := range []string{"request_id", "method", "path", "status", "latency_ms"} {
		if _, ok := first[k]; !ok {
			t.Errorf("access log line lacks %s: %v", k, first)
		}
	}
	if first["error_code"] != "USER.0038" || first["status"] != float64(400) || first["path"] != sendPath {
		t.Errorf("first line %v", first)
	}
	if _, ok := lines[1]["error_code"]; ok {
		t.Errorf("a 200 has an error_code: %v", lines[1])
	}
	if lines[2]["path"] != "/api/v2/sdk/sms/send/****" {
		t.Errorf("unknown path logged as %v", lines[2]["path"])
	}
	// DevMode logs why the first request was refused, without the value.
	if !strings.Contains(logs, `"field":"mobile"`) {
		t.Errorf("no refusal reason in dev mode:\n%s", logs)
	}
}

func TestConfig(t *testing.T) {
	var cfg server.Config
	doc := "body_limit: 4096\nrequest_timeout: 3s\nread_header_timeout: 2s\ntrusted_proxies: [10.0.0.0/8]\ndev_mode: true\n"
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.BodyLimit != 4096 || cfg.RequestTimeout != 3*time.Second || !cfg.DevMode || len(cfg.TrustedProxies) != 1 {
		t.Errorf("decoded %+v", cfg)
	}
	srv, err := server.New(cfg, newFake(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer(":0")
	if hs.ReadHeaderTimeout != 2*time.Second || hs.ReadTimeout != server.DefaultReadTimeout ||
		hs.WriteTimeout != server.DefaultWriteTimeout || hs.IdleTimeout != server.DefaultIdleTimeout {
		t.Errorf("timeouts %v %v %v %v", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout)
	}
	if hs.MaxHeaderBytes <= server.DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes %d is not above the middleware's limit", hs.MaxHeaderBytes)
	}
	if srv.Echo() == nil || srv.Handler() == nil {
		t.Error("no Echo or Handler")
	}

	for name, bad := range map[string]server.Config{
		"bad proxy":        {TrustedProxies: []string{"10.0.0.0/33"}},
		"proxy name":       {TrustedProxies: []string{"proxy.local"}},
		"negative limit":   {BodyLimit: -1},
		"negative timeout": {RequestTimeout: -time.Second},
	} {
		if _, err := server.New(bad, newFake(), nil, nil); err == nil {
			t.Errorf("%s: New accepted %+v", name, bad)
		}
	}
	if _, err := server.New(server.Config{}, nil, nil, nil); err == nil {
		t.Error("New accepted a nil Service")
	}
}

// The configured body limit applies, and the request deadline reaches
// the service.
func TestLimitsAndDeadline(t *testing.T) {
	svc := &deadlineService{fakeService: newFake()}
	ts := start(t, server.Config{BodyLimit: 100, RequestTimeout: 2 * time.Second}, svc.fakeService)
	r := send(t, ts, seedHeaders(), sendJSON(with("captcha_token", strings.Repeat("a", 100))))
	checkError(t, r, "REQ.0002", "zh")

	srv, err := server.New(server.Config{RequestTimeout: 2 * time.Second}, svc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts2 := &testServer{Server: newHTTPTest(t, srv.Handler())}
	send(t, ts2, seedHeaders(), seedBody)
	svc.mu.Lock()
	left := svc.left
	svc.mu.Unlock()
	if left <= 0 || left > 2*time.Second {
		t.Errorf("the service saw a deadline %v away, want within 2s", left)
	}
}

// deadlineService records how far away the context's deadline was.
type deadlineService struct {
	*fakeService
	left time.Duration
}

func (d *deadlineService) Send(ctx context.Context, req sender.SendRequest) (sender.SendResult, error) {
	if dl, ok := ctx.Deadline(); ok {
		d.mu.Lock()
		d.left = time.Until(dl)
		d.mu.Unlock()
	}
	return d.fakeService.Send(ctx, req)
}

// HEAD and unknown methods on known paths get documented answers too.
func TestHeadError(t *testing.T) {
	ts := start(t, server.Config{}, newFake())
	r := do(t, ts, http.MethodHead, "/nowhere", nil, nil)
	if r.status != http.StatusNotFound || len(r.body) != 0 {
		t.Errorf("HEAD /nowhere: %d %q", r.status, r.body)
	}
}
