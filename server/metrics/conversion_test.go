package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscode/smscode/internal/metricstest"
	"github.com/smscode/smscode/server/metrics"
)

// The conversion counters' country_code is a calling code libphonenumber
// knows, else unknown; client_id and scenario are bounded as elsewhere.
func TestConversionLabelsAreBounded(t *testing.T) {
	m := metrics.New(metrics.WithClientIDs(func(id string) bool { return id == "app1" }))
	for _, cc := range []int{86, 1, 800, 999, 0, -7, 4242} {
		m.CodeSent("app1", "LOGIN_SMS", cc)
	}
	m.CodeVerified("stranger", "LOGIN_SMS", 44)
	m.PrefixAutoBlock("stranger")
	m.PrefixAutoBlock("app1")

	wantSeries(t, m, "smscode_codes_sent_total", 4,
		`smscode_codes_sent_total{client_id="app1",country_code="86",scenario="LOGIN_SMS"} 1`,
		`smscode_codes_sent_total{client_id="app1",country_code="1",scenario="LOGIN_SMS"} 1`,
		`smscode_codes_sent_total{client_id="app1",country_code="800",scenario="LOGIN_SMS"} 1`, // non-geographic (freephone)
		// 999 is unassigned; 0, -7 and 4242 are no calling codes.
		`smscode_codes_sent_total{client_id="app1",country_code="unknown",scenario="LOGIN_SMS"} 4`,
		`smscode_codes_verified_total{client_id="unknown",country_code="44",scenario="LOGIN_SMS"} 1`,
		`smscode_prefix_auto_blocks_total{client_id="app1"} 1`,
		`smscode_prefix_auto_blocks_total{client_id="unknown"} 1`,
	)
}

// wantSeries checks that m's /metrics holds each of lines and n series of
// family.
func wantSeries(t *testing.T, m *metrics.Metrics, family string, n int, lines ...string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	out := string(b)
	for _, line := range lines {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if got := len(metricstest.Samples(t, metricstest.Page(t, b), family, nil)); got != n {
		t.Errorf("%d series of %s, want %d:\n%s", got, family, n, out)
	}
}
