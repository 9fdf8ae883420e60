package attack

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/metricstest"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
)

// A SIEM that accepts the audit webhook's connections and never answers
// must not slow sends: the trail's queue for it fills and drops (counted),
// while sends answer as fast as on a server without that sink. Both
// servers are measured interleaved, in the same run.
func TestStalledAuditSinkDoesNotSlowSends(t *testing.T) {
	const n = 200
	stall := make(chan struct{})
	siem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer siem.Close()
	defer close(stall) // before siem.Close, so its handlers return

	limits := func(c *config.Config) {
		c.Limits.IPPerHour = 10 * n
		c.Pumping.Disabled = true
	}
	plain := start(t, servertest.WithConfig(limits))
	stalled := start(t, servertest.WithConfig(func(c *config.Config) {
		limits(c)
		c.Audit.QueueSize = 20
		c.Audit.Webhook = &audit.WebhookConfig{URL: siem.URL, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Timeout: time.Minute}
	}))

	var base, slow []time.Duration
	for i := range n {
		for _, s := range []struct {
			tg  *target
			lat *[]time.Duration
		}{{plain, &base}, {stalled, &slow}} {
			h := headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("stall-%d", i)})
			began := time.Now()
			r, err := s.tg.try(sendPath, h, mustJSON(sendBody(loadNumber(i), login)))
			*s.lat = append(*s.lat, time.Since(began))
			if err != nil || r.Status != http.StatusOK {
				t.Fatalf("send %d: %v %v", i, r, err)
			}
		}
	}
	p := func(d []time.Duration, q float64) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[int(q*float64(len(d)-1))]
	}
	dropped := metricstest.Value(t, stalled.RT.Metrics.Registry(), "smscode_audit_events_total", map[string]string{"sink": "webhook", "result": "dropped"})
	t.Logf("%d sends each: without the sink p50 %v p99 %v; with a stalled webhook sink p50 %v p99 %v; %v events dropped for the stalled sink",
		n, p(base, .5), p(base, .99), p(slow, .5), p(slow, .99), dropped)
	// 20 queued, one batch held in the stalled write: the rest dropped.
	if dropped < n-20-100 {
		t.Errorf("stalled sink dropped %v events, want most of %d", dropped, n)
	}
	// Generous: a blocked Record would add the webhook's minute.
	if p(slow, .5) > 3*p(base, .5)+5*time.Millisecond || p(slow, .99) > 500*time.Millisecond {
		t.Errorf("sends slowed by a stalled audit sink: p50 %v vs %v, p99 %v", p(slow, .5), p(base, .5), p(slow, .99))
	}
}
