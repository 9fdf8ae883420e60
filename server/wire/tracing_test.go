package wire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/internal/testutil"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/sms/webhook"
	"github.com/smscode/smscode/server/wire"
)

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// The incoming request's traceparent (a caller that traces too).
const (
	callerTrace     = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan      = "00f067aa0ba902b7"
	callerParent    = "00-" + callerTrace + "-" + callerSpan + "-01"
	sendRoute       = "/api/v2/sdk/sms/send"
	sendSpanName    = "POST " + sendRoute
	sendFingerprint = "156aysdna213sac" // seed.Headers' X-device-fingerprint
)

// hook is the operator's webhook endpoint: it checks the signature and
// keeps each request's traceparent and payload.
type hook struct {
	mu       sync.Mutex
	parents  []string
	payloads []webhook.Payload
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(hookSecret, r.Header, body, time.Minute, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.parents = append(h.parents, r.Header.Get("traceparent"))
	h.payloads = append(h.payloads, p)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hook) received() ([]string, []webhook.Payload) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.parents...), append([]webhook.Payload(nil), h.payloads...)
}

// tracedServer builds the service from a configuration whose one provider
// is a webhook to a local endpoint, with tp (nil: tracing off) and a
// debug-level JSON log, and serves it.
func tracedServer(t *testing.T, tp trace.TracerProvider) (*httptest.Server, *hook, *testutil.SyncBuffer) {
	t.Helper()
	h := &hook{}
	endpoint := httptest.NewServer(h)
	t.Cleanup(endpoint.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	writeFile(t, path, fmt.Sprintf(`
dev_mode: true
secret_file: %s
store: {kind: memory}
providers:
  - {name: hook, kind: webhook, webhook: {url: %q, secret: %s}}
apps:
  - client_id: %s
    tenant_id: %s
    captcha: {kind: slider, test_tokens: [%q]}
`, filepath.Join(dir, "secret"), endpoint.URL, hookSecret, seed.ClientID, seed.TenantID, seed.CaptchaToken))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt, err := wire.Build(cfg, log, wire.Overrides{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	srv := httptest.NewServer(rt.Server.Handler())
	t.Cleanup(srv.Close)
	return srv, h, logs
}

// post sends the seed's request with the caller's traceparent.
func post(t *testing.T, srv *httptest.Server, traceparent string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+sendRoute, strings.NewReader(seed.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = seed.Headers()
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func get(t *testing.T, srv *httptest.Server, path string) {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
}

// logLines parses the JSON log.
func logLines(t *testing.T, logs *testutil.SyncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func spanAttrs(s tracetest.SpanStub) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

// TestTracedSend: one accepted send through the real server gives the span
// tree server span → captcha check, store decision, provider attempt, in
// the caller's trace; the webhook request carries the attempt's
// traceparent; the request's log lines carry its trace and span ids; and
// nothing recorded anywhere in the spans holds the number or the code.
func TestTracedSend(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	srv, h, logs := tracedServer(t, tp)

	if status := post(t, srv, callerParent); status != http.StatusOK {
		t.Fatalf("send: status %d", status)
	}
	spans := exp.GetSpans()
	var root tracetest.SpanStub
	children := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		if s.SpanContext.TraceID().String() != callerTrace {
			t.Errorf("span %q in trace %s, want the caller's %s", s.Name, s.SpanContext.TraceID(), callerTrace)
		}
		if s.Name == sendSpanName {
			root = s
		}
	}
	if root.Name == "" || root.SpanKind != trace.SpanKindServer || root.Parent.SpanID().String() != callerSpan || !root.Parent.IsRemote() {
		t.Fatalf("no server span %q under the caller's span %s: %v", sendSpanName, callerSpan, spans)
	}
	for _, s := range spans {
		if s.Name == sendSpanName {
			continue
		}
		if s.Parent.SpanID() != root.SpanContext.SpanID() {
			t.Errorf("span %q has parent %s, want the server span %s", s.Name, s.Parent.SpanID(), root.SpanContext.SpanID())
		}
		if _, dup := children[s.Name]; dup {
			t.Errorf("two %q spans", s.Name)
		}
		children[s.Name] = s
	}
	if len(spans) != 4 || len(children) != 3 {
		t.Errorf("%d spans, want the server span and 3 children", len(spans))
	}
	want := map[string]map[attribute.Key]string{
		sendSpanName: {"http.route": sendRoute, "http.request.method": "POST", "http.response.status_code": "200",
			"smscode.client_id": seed.ClientID, "smscode.scenario": seed.Scenario},
		"captcha.verify": {"smscode.outcome": "passed"},
		"store.reserve":  {"smscode.outcome": "reserved"},
		"sms.attempt":    {"smscode.provider": "hook", "smscode.attempt": "1", "smscode.outcome": "accepted"},
	}
	children[sendSpanName] = root
	for name, attrs := range want {
		got := spanAttrs(children[name])
		for k, v := range attrs {
			if got[k] != v {
				t.Errorf("span %q: %s = %q, want %q", name, k, got[k], v)
			}
		}
	}

	// The webhook endpoint joins the trace under the attempt's span.
	parents, payloads := h.received()
	if len(parents) != 1 || len(payloads) != 1 {
		t.Fatalf("the endpoint got %d requests, want 1", len(parents))
	}
	hdr := http.Header{}
	hdr.Set("traceparent", parents[0])
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(hdr)))
	if !sc.IsValid() || sc.TraceID().String() != callerTrace || sc.SpanID() != children["sms.attempt"].SpanContext.SpanID() {
		t.Errorf("the webhook's traceparent %q, want trace %s, parent the attempt span %s",
			parents[0], callerTrace, children["sms.attempt"].SpanContext.SpanID())
	}

	// What the spans must never hold: the number, in any form, the code
	// the provider was given, the captcha token and the device fingerprint.
	code := payloads[0].Code
	if len(code) < 4 || payloads[0].To != "+86"+seed.Mobile {
		t.Fatalf("payload code %q, to %q: the scan below would prove nothing", code, payloads[0].To)
	}
	secrets := []string{seed.Mobile, payloads[0].To, seed.Mobile[3:], code, seed.CaptchaToken, sendFingerprint}
	for _, s := range spans {
		texts := []string{s.Name, s.Status.Description}
		for _, kv := range append(s.Attributes, s.Resource.Attributes()...) {
			texts = append(texts, string(kv.Key), kv.Value.String())
		}
		for _, ev := range s.Events {
			texts = append(texts, ev.Name)
			for _, kv := range ev.Attributes {
				texts = append(texts, string(kv.Key), kv.Value.String())
			}
		}
		for _, l := range s.Links {
			for _, kv := range l.Attributes {
				texts = append(texts, string(kv.Key), kv.Value.String())
			}
		}
		for _, text := range texts {
			for _, secret := range secrets {
				if strings.Contains(text, secret) {
					t.Errorf("span %q records %q, which holds %q", s.Name, text, secret)
				}
			}
		}
	}

	// The request's log lines carry its ids: the access log line and the
	// pipeline's "sms sent" the server span's; a probe is at debug.
	get(t, srv, "/healthz")
	var access, sent, probe map[string]any
	for _, l := range logLines(t, logs) {
		switch {
		case l["msg"] == "request" && l["path"] == sendRoute:
			access = l
		case l["msg"] == "request" && l["path"] == "/healthz":
			probe = l
		case l["msg"] == "sms sent":
			sent = l
		}
	}
	for name, l := range map[string]map[string]any{"access log": access, "sms sent": sent} {
		if l["trace_id"] != callerTrace || l["span_id"] != root.SpanContext.SpanID().String() {
			t.Errorf("%s line %v: want trace_id %s and span_id %s", name, l, callerTrace, root.SpanContext.SpanID())
		}
	}
	// Probes are not traced (tracing.Middleware skips kit.IsProbe routes).
	if probe["level"] != "DEBUG" || probe["trace_id"] != nil {
		t.Errorf("probe line %v: want DEBUG, without a trace", probe)
	}

	// A second send within the cooldown is refused by the store decision:
	// its span says which limit, and no attempt is made.
	exp.Reset()
	if status := post(t, srv, ""); status != http.StatusTooManyRequests {
		t.Fatalf("second send: status %d, want 429", status)
	}
	names := map[string]map[attribute.Key]string{}
	for _, s := range exp.GetSpans() {
		names[s.Name] = spanAttrs(s)
	}
	if r := names["store.reserve"]; r["smscode.outcome"] != "refused" || r["smscode.limit"] != "number_cooldown" || r["smscode.error_code"] != "SMS.0001" {
		t.Errorf("refused store.reserve span: %v", r)
	}
	if _, ok := names["sms.attempt"]; ok || names[sendSpanName]["smscode.error_code"] != "SMS.0001" {
		t.Errorf("refused send's spans: %v", names)
	}
}

// With tracing off (no provider, as when no OTEL_* variable is set),
// nothing of it is on the request path: no trace ids in the log, and the
// caller's traceparent is not passed on to the webhook.
func TestUntracedSend(t *testing.T) {
	srv, h, logs := tracedServer(t, nil)
	if status := post(t, srv, callerParent); status != http.StatusOK {
		t.Fatalf("send: status %d", status)
	}
	for _, l := range logLines(t, logs) {
		if _, ok := l["trace_id"]; ok {
			t.Errorf("log line with a trace_id: %v", l)
		}
	}
	if parents, _ := h.received(); len(parents) != 1 || parents[0] != "" {
		t.Errorf("webhook traceparents %q, want one request without", parents)
	}
}
