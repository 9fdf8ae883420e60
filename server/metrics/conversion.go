package metrics

import (
	"strconv"

	"github.com/nyaruka/phonenumbers"
	"github.com/prometheus/client_golang/prometheus"
)

// conversionMetrics are the conversion counters (codes verified / codes
// sent) and the learning pumping defence's blocks. They are counters of
// their own rather than labels added to smscode_sends_total and
// smscode_verifications_total: a country_code label on those would
// multiply every existing series by the countries served (sends also carry
// outcome and provider), and client_id on verifications would split every
// series that dashboards and alerts already follow. These count only the
// two events a conversion needs, so their series are at most the
// registered apps × 6 scenarios × the calling codes actually served.
type conversionMetrics struct {
	sent, verified *counters
	autoBlocks     *prometheus.CounterVec
}

func newConversionMetrics() conversionMetrics {
	labels := []string{"client_id", "scenario", "country_code"}
	return conversionMetrics{
		sent: newCounters(prometheus.CounterOpts{
			Name: "smscode_codes_sent_total",
			Help: "Codes a provider accepted, by application, scenario and country calling code (conversion = smscode_codes_verified_total / this).",
		}, labels...),
		verified: newCounters(prometheus.CounterOpts{
			Name: "smscode_codes_verified_total",
			Help: "Codes verified, by application, scenario and country calling code of the number.",
		}, labels...),
		autoBlocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smscode_prefix_auto_blocks_total",
			Help: "Number prefixes blocked by the learning SMS-pumping defence (conversion far below the application's norm), by application.",
		}, []string{"client_id"}),
	}
}

func (c conversionMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.sent.CounterVec, c.verified.CounterVec, c.autoBlocks}
}

// callingCodeLabel is a country calling code ("86") when libphonenumber
// knows it (about 250 codes, the non-geographic ones included), else
// Unknown: a parsed number's code always is one, so the bound only guards
// mistakes. The conversion counters' country_code and the deliveries'
// calling_code both go through it.
func callingCodeLabel(cc int) string {
	if cc <= 0 || cc > 999 || phonenumbers.GetRegionCodeForCountryCode(cc) == phonenumbers.UNKNOWN_REGION {
		return Unknown
	}
	return strconv.Itoa(cc)
}

// CodeSent counts a code a provider accepted, to a number with calling
// code cc.
func (m *Metrics) CodeSent(clientID, scenario string, cc int) {
	if m != nil {
		m.conv.sent.with(labelValues{m.clientLabel(clientID), scenarioLabel(scenario), callingCodeLabel(cc)}).Inc()
	}
}

// CodeVerified counts a code verified for a number with calling code cc.
func (m *Metrics) CodeVerified(clientID, scenario string, cc int) {
	if m != nil {
		m.conv.verified.with(labelValues{m.clientLabel(clientID), scenarioLabel(scenario), callingCodeLabel(cc)}).Inc()
	}
}

// PrefixAutoBlock counts a prefix that the learning pumping defence blocked.
func (m *Metrics) PrefixAutoBlock(clientID string) {
	if m != nil {
		m.conv.autoBlocks.WithLabelValues(m.clientLabel(clientID)).Inc()
	}
}
