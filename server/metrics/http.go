package metrics

import (
	"errors"
	"net/http"

	"github.com/labstack/echo-contrib/echoprometheus"
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

// HTTP returns Echo middleware that records the RED metrics of every
// request (echo-contrib's echoprometheus): smscode_http_requests_total,
// smscode_http_request_duration_seconds, smscode_http_request_size_bytes
// and smscode_http_response_size_bytes, labelled code (the status),
// method and url, and smscode_http_requests_in_flight. url is the route
// template (Echo's c.Path(), e.g. /api/v2/sdk/sms/send), never the request
// path: a request that matches no route is Unmatched. method is one of the
// standard methods or Unknown. echoprometheus also has a host label; it is
// always empty here (the Host header is the client's to choose), and
// Prometheus drops empty labels.
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

func (m *Metrics) newHTTPMiddleware() echo.MiddlewareFunc {
	empty := func(echo.Context, error) string { return "" }
	mw, err := echoprometheus.MiddlewareConfig{
		Namespace:  "smscode",
		Subsystem:  "http",
		Registerer: m.registry,
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{
			"url":    func(c echo.Context, _ error) string { return routeLabel(c.Path()) },
			"method": func(c echo.Context, _ error) string { return methodLabel(c.Request().Method) },
			"host":   empty,
		},
		DoNotUseRequestPathFor404: true,
		HistogramOptsFunc: func(o prometheus.HistogramOpts) prometheus.HistogramOpts {
			if o.Name == "request_duration_seconds" {
				o.Buckets = httpLatencyBuckets
				o.Help = "Time to answer an HTTP request, by status code, method and route template (url)."
			}
			return o
		},
		// The in-flight gauge: the handlers inside recover their panics
		// (kit.Recover), so AfterNext always runs.
		BeforeNext:         func(echo.Context) { m.inFlight.Inc() },
		AfterNext:          func(echo.Context, error) { m.inFlight.Dec() },
		StatusCodeResolver: statusOf,
	}.ToMiddleware()
	if err != nil {
		// Only a name clash on m's own fresh registry: a bug, not an input.
		panic("metrics: " + err.Error())
	}
	return mw
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
