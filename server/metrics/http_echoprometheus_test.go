package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/smscode/smscode/server/metrics"
)

// echoprometheusHTTP is the HTTP middleware as metrics.HTTP configured it
// from echo-contrib's echoprometheus before it was written by hand: the
// reference TestHTTPIsEchoprometheus compares it with.
func echoprometheusHTTP(t *testing.T, reg prometheus.Registerer) echo.MiddlewareFunc {
	t.Helper()
	mw, err := echoprometheus.MiddlewareConfig{
		Namespace:  "smscode",
		Subsystem:  "http",
		Registerer: reg,
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{
			"url":    func(c echo.Context, _ error) string { return metrics.RouteLabel(c.Path()) },
			"method": func(c echo.Context, _ error) string { return metrics.MethodLabel(c.Request().Method) },
			"host":   func(echo.Context, error) string { return "" },
		},
		DoNotUseRequestPathFor404: true,
		HistogramOptsFunc: func(o prometheus.HistogramOpts) prometheus.HistogramOpts {
			if o.Name == "request_duration_seconds" {
				o.Buckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
				o.Help = "Time to answer an HTTP request, by status code, method and route template (url)."
			}
			return o
		},
		StatusCodeResolver: metrics.StatusOf,
	}.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// TestHTTPIsEchoprometheus serves the same requests through metrics.HTTP
// and through echoprometheus configured as it was, and compares the
// smscode_http_* families they record: names, help, types, labels, counts,
// sizes and buckets; only the measured durations differ (their sums and
// which bucket each falls in are left out).
func TestHTTPIsEchoprometheus(t *testing.T) {
	m := metrics.New()
	ref := prometheus.NewRegistry()
	serve := func(mw echo.MiddlewareFunc) *echo.Echo {
		e := echo.New()
		e.Use(mw)
		e.GET("/ok/:id", func(c echo.Context) error { return c.String(http.StatusOK, "fine") })
		e.POST("/big", func(c echo.Context) error { return c.Blob(http.StatusCreated, "text/plain", make([]byte, 3000)) })
		e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot) })
		e.GET("/busy", func(echo.Context) error { return statusErr(http.StatusServiceUnavailable) })
		e.GET("/broken", func(echo.Context) error { return errors.New("plain") })
		e.GET("/"+strings.Repeat("r", 130), func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		return e
	}
	ours, theirs := serve(m.HTTP()), serve(echoprometheusHTTP(t, ref))
	requests := []struct{ method, path, body string }{
		{http.MethodGet, "/ok/13812345678", ""},
		{http.MethodGet, "/ok/1", ""},
		{http.MethodPost, "/big", strings.Repeat("b", 1500)},
		{http.MethodPost, "/big", ""},
		{http.MethodGet, "/teapot", ""},
		{http.MethodGet, "/busy", ""},
		{http.MethodGet, "/broken", ""},
		{http.MethodGet, "/nowhere/13812345678", ""},
		{http.MethodPost, "/ok/2", ""},
		{"BREW", "/ok/3", ""},
		{http.MethodGet, "/" + strings.Repeat("r", 130), ""},
	}
	for _, r := range requests {
		for _, e := range []*echo.Echo{ours, theirs} {
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
			req.Header.Set("X-Some", strings.Repeat("h", 700))
			e.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	got, want := httpFamilies(t, m.Registry()), httpFamilies(t, ref)
	if len(want) != 4 {
		t.Fatalf("the reference recorded %d families, want 4", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("metrics.HTTP recorded %d families, echoprometheus %d", len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(want[i], got[i]) {
			t.Errorf("metrics.HTTP records otherwise than echoprometheus:\nechoprometheus: %s\nours:           %s",
				oneLine.Format(want[i]), oneLine.Format(got[i]))
		}
	}
}

var oneLine = prototext.MarshalOptions{}

// httpFamilies gathers reg's smscode_http_* families but the in-flight
// gauge, without what depends on how long requests took.
func httpFamilies(t *testing.T, reg prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	all, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.MetricFamily
	for _, f := range all {
		if !strings.HasPrefix(f.GetName(), "smscode_http_") || f.GetName() == "smscode_http_requests_in_flight" {
			continue
		}
		for _, s := range f.GetMetric() {
			if h := s.GetHistogram(); h != nil {
				h.CreatedTimestamp = nil
				if f.GetName() == "smscode_http_request_duration_seconds" {
					h.SampleSum = nil
					for _, b := range h.GetBucket() {
						b.CumulativeCount = nil
					}
				}
			}
			if c := s.GetCounter(); c != nil {
				c.CreatedTimestamp = nil
			}
		}
		out = append(out, f)
	}
	return out
}
