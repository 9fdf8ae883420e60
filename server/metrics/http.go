package metrics

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/kit"
)

// Unmatched is the route label value of requests that matched no route: one
// value for every path a client makes up.
const Unmatched = "unmatched"

// httpLatencyBuckets span the API's answers: sub-millisecond (health
// probes, refusals by the validator), milliseconds (a send on the memory
// store), up to the request timeout (10 s by default) when a provider is
// slow.
var httpLatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// httpSizeBuckets are echoprometheus's size buckets, 1 KiB to 10 MiB.
var httpSizeBuckets = []float64{1 << 10, 2 << 10, 5 << 10, 10 << 10, 100 << 10, 500 << 10, 1 << 20, 2.5 * (1 << 20), 5 << 20, 10 << 20}

// httpLabelNames are the labels of the HTTP metrics, in echoprometheus's
// order: dashboards and alerts written against it keep working.
var httpLabelNames = []string{"code", "method", "host", "url"}

// HTTP returns Echo middleware that records the RED metrics of every
// request: smscode_http_requests_total,
// smscode_http_request_duration_seconds, smscode_http_request_size_bytes
// and smscode_http_response_size_bytes, labelled code (the status),
// method and url, and smscode_http_requests_in_flight. url is the route
// template (Echo's c.Path(), e.g. /api/v2/sdk/sms/send), never the request
// path: a request that matches no route is Unmatched. method is one of the
// standard methods or Unknown. The metrics are those echo-contrib's
// echoprometheus records (names, help, buckets, labels and values;
// TestHTTPIsEchoprometheus compares them), host label included: it is
// always empty here (the Host header is the client's to choose), and
// Prometheus drops empty labels.
//
// It is written here rather than configured from echoprometheus, which
// looks each of the four series up by its label values on every request (a
// slice and a hash of the values each time): the series of a label set are
// looked up once and kept (see httpSeries), so a request costs a map read.
//
// Use it outside the middleware that answers errors (kit.AccessLog), so
// that it sees the final status. The same middleware is returned on every
// call (it is made by New), so that servers rebuilt on m share its
// collectors. A nil *Metrics returns middleware that does nothing.
func (m *Metrics) HTTP() echo.MiddlewareFunc {
	if m == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return m.http
}

// httpMetrics are the collectors of HTTP and the series already looked up
// in them.
type httpMetrics struct {
	requests                *prometheus.CounterVec
	duration, reqSz, respSz *prometheus.HistogramVec
	inFlight                prometheus.Gauge

	mu sync.RWMutex
	// series is bounded as the labels are: registered routes (or
	// Unmatched), the standard methods (or Unknown), statuses 100 to 999.
	series map[httpLabels]*httpSeries
}

// httpLabels are a series' label values (host is always empty).
type httpLabels struct {
	status      int
	method, url string
}

// httpSeries are the four series of one label set.
type httpSeries struct {
	requests                prometheus.Counter
	duration, reqSz, respSz prometheus.Observer
}

func (m *Metrics) newHTTPMiddleware() echo.MiddlewareFunc {
	h := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "smscode", Subsystem: "http", Name: "requests_total",
			Help: "How many HTTP requests processed, partitioned by status code and HTTP method.",
		}, httpLabelNames),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "smscode", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by status code, method and route template (url).",
			Buckets: httpLatencyBuckets,
		}, httpLabelNames),
		respSz: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "smscode", Subsystem: "http", Name: "response_size_bytes",
			Help: "The HTTP response sizes in bytes.", Buckets: httpSizeBuckets,
		}, httpLabelNames),
		reqSz: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "smscode", Subsystem: "http", Name: "request_size_bytes",
			Help: "The HTTP request sizes in bytes.", Buckets: httpSizeBuckets,
		}, httpLabelNames),
		inFlight: m.inFlight,
		series:   make(map[httpLabels]*httpSeries),
	}
	m.registry.MustRegister(h.requests, h.duration, h.respSz, h.reqSz)
	return h.middleware
}

func (h *httpMetrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// The handlers inside recover their panics (kit.Recover), so the
		// gauge is always decremented.
		h.inFlight.Inc()
		reqSz := requestSize(c.Request())
		start := time.Now()
		err := next(c)
		elapsed := time.Since(start).Seconds()
		h.inFlight.Dec()
		s := h.seriesOf(httpLabels{status: statusOf(c, err), method: methodLabel(c.Request().Method), url: routeLabel(c.Path())})
		s.duration.Observe(elapsed)
		s.requests.Inc()
		s.reqSz.Observe(float64(reqSz))
		s.respSz.Observe(float64(c.Response().Size))
		return err
	}
}

// seriesOf returns l's series, looking them up in the vectors the first
// time l is seen.
func (h *httpMetrics) seriesOf(l httpLabels) *httpSeries {
	h.mu.RLock()
	s := h.series[l]
	h.mu.RUnlock()
	if s != nil {
		return s
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s = h.series[l]; s != nil {
		return s
	}
	values := []string{strconv.Itoa(l.status), l.method, "", strings.ToValidUTF8(l.url, "\uFFFD")}
	s = &httpSeries{
		requests: h.requests.WithLabelValues(values...),
		duration: h.duration.WithLabelValues(values...),
		reqSz:    h.reqSz.WithLabelValues(values...),
		respSz:   h.respSz.WithLabelValues(values...),
	}
	// The key holds strings of the request (its method, Echo's route);
	// cloned, so the map does not keep them alive.
	l.method, l.url = strings.Clone(l.method), strings.Clone(l.url)
	h.series[l] = s
	return s
}

// requestSize approximates the request's size as echoprometheus does: the
// path, method, protocol, header names and values, host and declared body
// length.
func requestSize(r *http.Request) int {
	s := 0
	if r.URL != nil {
		s = len(r.URL.Path)
	}
	s += len(r.Method) + len(r.Proto)
	for name, values := range r.Header {
		s += len(name)
		for _, v := range values {
			s += len(v)
		}
	}
	s += len(r.Host)
	if r.ContentLength != -1 {
		s += int(r.ContentLength)
	}
	return s
}

// routeLabel is Echo's route template. Echo's router sets c.Path() to the
// path of a registered route (a route that matched, or one whose path
// matched for another method: 405) or leaves it empty, so the values are
// bounded by the registered routes.
func routeLabel(path string) string {
	if path == "" || len(path) > 2*maxLabelLen {
		return Unmatched
	}
	return path
}

// methodLabel bounds the method: Go's server accepts any token as a method.
func methodLabel(m string) string {
	if kit.StandardMethod(m) {
		return m
	}
	return Unknown
}

// statusOf is the status of the answer: written by the error handler
// inside (kit.AccessLog answers errors itself), or, for an error that
// reached this middleware unanswered, the status it will be answered with.
// net/http only writes codes 100 to 999, so the label is bounded.
func statusOf(c echo.Context, err error) int {
	if err == nil || c.Response().Committed {
		return c.Response().Status
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	var st interface{ Status() int }
	if errors.As(err, &st) {
		return st.Status()
	}
	return http.StatusInternalServerError
}
