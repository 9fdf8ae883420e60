package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// receiptMetrics count what the delivery receipts say. Every label comes
// from a bounded set: provider names from the configuration (a receipt for
// a provider that is not configured is refused before it is counted), the
// country calling code from the record written at send time (a parsed
// number's, one of the few hundred libphonenumber knows: callingCodeLabel;
// never a receipt's), statuses and outcomes from the fixed sets below.
type receiptMetrics struct {
	receipts   *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

func newReceiptMetrics(reg *prometheus.Registry) receiptMetrics {
	r := receiptMetrics{
		receipts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_sms_receipts_total",
			Help: "Delivery receipts received, by provider and outcome (settled: a message's status changed; interim: a status that is not final, such as Twilio's sent; unknown_id: no message of that id is waiting, never sent or its record expired; duplicate: a replay of a status already set; late: another final status was already set; bad_signature; bad_body).",
		}, []string{"provider", "outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_sms_deliveries_total",
			Help: "Messages by final delivery status (delivered, failed, expired, unknown: no receipt within receipts.wait), provider and country calling code of the destination.",
		}, []string{"provider", "calling_code", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "smscode_sms_delivery_seconds",
			Help:    "Time from the provider's acceptance of a message to its delivered receipt, by provider.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800},
		}, []string{"provider"}),
	}
	reg.MustRegister(r.receipts, r.deliveries, r.latency)
	return r
}

// Receipt outcomes (smscode_sms_receipts_total).
const (
	ReceiptSettled      = "settled"
	ReceiptInterim      = "interim"
	ReceiptUnknownID    = "unknown_id"
	ReceiptDuplicate    = "duplicate"
	ReceiptLate         = "late"
	ReceiptBadSignature = "bad_signature"
	ReceiptBadBody      = "bad_body"
)

var receiptOutcomes = map[string]bool{ReceiptSettled: true, ReceiptInterim: true, ReceiptUnknownID: true,
	ReceiptDuplicate: true, ReceiptLate: true, ReceiptBadSignature: true, ReceiptBadBody: true}

var deliveryStatuses = map[string]bool{"delivered": true, "failed": true, "expired": true, "unknown": true}

// Receipt counts a receipt of a configured provider by its outcome.
func (m *Metrics) Receipt(provider, outcome string) {
	if m == nil {
		return
	}
	if !receiptOutcomes[outcome] {
		outcome = Unknown
	}
	m.receipts.receipts.WithLabelValues(nameLabel(provider), outcome).Inc()
}

// Delivery counts a message's final status; for delivered, latency (from
// the provider's acceptance) is observed too.
func (m *Metrics) Delivery(provider, callingCode, status string, latency time.Duration) {
	if m == nil {
		return
	}
	if !deliveryStatuses[status] {
		status = Unknown
	}
	// The calling code as the record writes it (strconv.Itoa of a parsed
	// number's); anything else counts as Unknown.
	cc, err := strconv.Atoi(callingCode)
	if err != nil || strconv.Itoa(cc) != callingCode {
		cc = 0
	}
	m.receipts.deliveries.WithLabelValues(nameLabel(provider), callingCodeLabel(cc), status).Inc()
	if status == "delivered" && latency >= 0 {
		m.receipts.latency.WithLabelValues(nameLabel(provider)).Observe(latency.Seconds())
	}
}
