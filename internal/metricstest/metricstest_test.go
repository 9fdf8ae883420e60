package metricstest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smscode/smscode/internal/metricstest"
)

func registry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	sends := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_sends_total"}, []string{"client", "outcome"})
	sends.WithLabelValues("a", "ok").Add(3)
	sends.WithLabelValues("a", "failed").Add(1)
	sends.WithLabelValues("b", "ok").Add(5)
	sends.WithLabelValues("", "ok").Add(7)
	open := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "t_open"}, []string{"provider"})
	open.WithLabelValues("p").Set(2)
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "t_seconds"})
	latency.Observe(0.1)
	reg.MustRegister(sends, open, latency)
	return reg
}

// served is the page promhttp serves for reg: what a scrape reads.
func served(reg *prometheus.Registry) []byte {
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.Bytes()
}

// Value reads the same figures from the registry and from its served page.
func TestValue(t *testing.T) {
	reg := registry(t)
	sources := map[string]prometheus.Gatherer{"registry": reg, "page": metricstest.Page(t, served(reg))}
	tests := []struct {
		name, family string
		match        map[string]string
		want         float64
	}{
		{"one series", "t_sends_total", map[string]string{"client": "a", "outcome": "ok"}, 3},
		{"partial match sums", "t_sends_total", map[string]string{"client": "a"}, 4},
		{"no match: every series", "t_sends_total", nil, 16},
		{"empty value", "t_sends_total", map[string]string{"client": ""}, 7},
		{"wrong value", "t_sends_total", map[string]string{"client": "c"}, 0},
		{"wrong label name", "t_sends_total", map[string]string{"tenant": "a"}, 0},
		{"no such family", "t_sent_total", nil, 0},
		{"gauge", "t_open", map[string]string{"provider": "p"}, 2},
	}
	for src, g := range sources {
		for _, tc := range tests {
			if got := metricstest.Value(t, g, tc.family, tc.match); got != tc.want {
				t.Errorf("%s, %s: Value(%s%v) = %v, want %v", src, tc.name, tc.family, tc.match, got, tc.want)
			}
		}
		if n := len(metricstest.Samples(t, g, "t_sends_total", map[string]string{"outcome": "ok"})); n != 3 {
			t.Errorf("%s: %d series with outcome=ok, want 3", src, n)
		}
		if h := metricstest.Samples(t, g, "t_seconds", nil); len(h) != 1 || h[0].GetHistogram().GetSampleCount() != 1 {
			t.Errorf("%s: histogram series %v, want one with one sample", src, h)
		}
	}
}

// fatalRecorder is a testing.TB whose Fatalf records instead of stopping.
type fatalRecorder struct {
	testing.TB
	fatal string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
}

// A histogram has no one value: Value fails the test rather than read 0;
// a page that does not parse fails it too.
func TestValueRefuses(t *testing.T) {
	r := &fatalRecorder{TB: t}
	if v := metricstest.Value(r, registry(t), "t_seconds", nil); r.fatal == "" {
		t.Errorf("Value of a histogram = %v, want the test failed", v)
	}
	r = &fatalRecorder{TB: t}
	metricstest.Page(r, []byte("t_sends_total{client=\"a\" 1\n"))
	if r.fatal == "" {
		t.Error("a page that does not parse was accepted")
	}
}
