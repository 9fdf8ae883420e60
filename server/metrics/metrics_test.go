package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscode/smscode/internal/buildinfo"
	"github.com/smscode/smscode/server/metrics"
)

// TestLabelsAreBounded checks that values outside a label's set are
// counted as "unknown", and values inside it as themselves.
func TestLabelsAreBounded(t *testing.T) {
	m := metrics.New(metrics.WithClientIDs(func(id string) bool { return id == "app1" }))
	m.Send("app1", "LOGIN_SMS", "sent", "primary")
	m.Send("stranger", "LOGIN_SMS", "refused", "")
	m.Send("app1", "NOT_A_SCENARIO", "refused", "")
	m.Error("APP.0001")
	m.Error("NOPE.9999")
	m.Verification("EVIL\nSCENARIO", "wrong")
	m.Refusal(strings.Repeat("x", 100))
	m.CaptchaCheck("slider", "answer", "passed")
	m.CaptchaCheck("slid\x00er", "token", "failed")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	out := string(b)
	for _, tc := range []struct {
		name, line string
	}{
		{"registered client", `smscode_sends_total{client_id="app1",outcome="sent",provider="primary",scenario="LOGIN_SMS"} 1`},
		{"unknown client", `smscode_sends_total{client_id="unknown",outcome="refused",provider="",scenario="LOGIN_SMS"} 1`},
		{"unknown scenario", `smscode_sends_total{client_id="app1",outcome="refused",provider="",scenario="unknown"} 1`},
		{"known code", `smscode_errors_total{code="APP.0001"} 1`},
		{"unknown code", `smscode_errors_total{code="unknown"} 1`},
		{"scenario with a control character", `smscode_verifications_total{outcome="wrong",scenario="unknown"} 1`},
		{"overlong limit name", `smscode_limit_refusals_total{limit="unknown"} 1`},
		{"captcha check", `smscode_captcha_checks_total{kind="slider",outcome="passed",step="answer"} 1`},
		{"captcha kind with a NUL", `smscode_captcha_checks_total{kind="unknown",outcome="failed",step="token"} 1`},
	} {
		if !strings.Contains(out, tc.line+"\n") {
			t.Errorf("%s: /metrics lacks %s", tc.name, tc.line)
		}
	}
	for _, leaked := range []string{"stranger", "NOPE", "NOT_A_SCENARIO", "xxxxxxxx"} {
		if strings.Contains(out, leaked) {
			t.Errorf("/metrics holds %q, a value outside its label's set", leaked)
		}
	}
	// Without WithClientIDs every client is unknown.
	m2 := metrics.New()
	m2.Send("app1", "LOGIN_SMS", "sent", "p")
	rec = httptest.NewRecorder()
	m2.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if b, _ := io.ReadAll(rec.Body); strings.Contains(string(b), `client_id="app1"`) {
		t.Error("metrics.New() without WithClientIDs labelled an id")
	}
}

// smscode_build_info is 1, labelled with what internal/buildinfo reports,
// beside the Go and process collectors.
func TestBuildInfo(t *testing.T) {
	bi := buildinfo.Get()
	rec := httptest.NewRecorder()
	metrics.New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	want := fmt.Sprintf("smscode_build_info{goversion=%q,revision=%q,version=%q} 1\n", bi.GoVersion, bi.Revision, bi.Version)
	if !strings.Contains(out, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	for _, name := range []string{"go_goroutines ", "process_resident_memory_bytes ", "smscode_http_requests_in_flight 0\n"} {
		if !strings.Contains(out, "\n"+name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
}
