package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/metrics"
)

// The deliveries' calling_code is bounded as the conversion counters'
// country_code (one function): a calling code libphonenumber knows, as
// the delivery record writes it, else unknown. An unassigned code such as
// 999 is unknown, as it is for the conversion counters.
func TestDeliveryCallingCodeIsBounded(t *testing.T) {
	m := metrics.New()
	for _, cc := range []string{"86", "1", "800", "999", "0", "086", "+86", "1000", "-1", "abc", ""} {
		m.Delivery("twilio", cc, "delivered", time.Second)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	out := string(b)
	for _, line := range []string{
		`smscode_sms_deliveries_total{calling_code="86",provider="twilio",status="delivered"} 1`,
		`smscode_sms_deliveries_total{calling_code="1",provider="twilio",status="delivered"} 1`,
		`smscode_sms_deliveries_total{calling_code="800",provider="twilio",status="delivered"} 1`,
		// 999 is unassigned; the others are not calling codes as a
		// record writes them.
		`smscode_sms_deliveries_total{calling_code="unknown",provider="twilio",status="delivered"} 8`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if n := strings.Count(out, "smscode_sms_deliveries_total{"); n != 4 {
		t.Errorf("%d series of smscode_sms_deliveries_total, want 4:\n%s", n, out)
	}
}
