package metrics_test

import (
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
	wantSeries(t, m, "smscode_sms_deliveries_total", 4,
		`smscode_sms_deliveries_total{calling_code="86",provider="twilio",status="delivered"} 1`,
		`smscode_sms_deliveries_total{calling_code="1",provider="twilio",status="delivered"} 1`,
		`smscode_sms_deliveries_total{calling_code="800",provider="twilio",status="delivered"} 1`,
		// 999 is unassigned; the others are not calling codes as a
		// record writes them.
		`smscode_sms_deliveries_total{calling_code="unknown",provider="twilio",status="delivered"} 8`,
	)
}
