package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/server/metrics"
)

// statusErr is an error that knows its HTTP status, as *apierr.Error does.
type statusErr int

func (e statusErr) Error() string { return "status error" }
func (e statusErr) Status() int   { return int(e) }

// With no error handler inside it (smscode's server has kit.AccessLog
// there), the middleware counts an error under the status it will be
// answered with.
func TestHTTPCountsUnansweredErrors(t *testing.T) {
	m := metrics.New()
	e := echo.New()
	e.Use(m.HTTP())
	e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot) })
	e.GET("/busy", func(echo.Context) error { return statusErr(http.StatusServiceUnavailable) })
	e.GET("/broken", func(echo.Context) error { return errors.New("plain") })
	e.GET("/ok/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	for _, p := range []string{"/teapot", "/busy", "/broken", "/ok/13812345678"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`smscode_http_requests_total{code="418",host="",method="GET",url="/teapot"} 1`,
		`smscode_http_requests_total{code="503",host="",method="GET",url="/busy"} 1`,
		`smscode_http_requests_total{code="500",host="",method="GET",url="/broken"} 1`,
		`smscode_http_requests_total{code="204",host="",method="GET",url="/ok/:id"} 1`,
		"smscode_http_requests_in_flight 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(out, "13812345678") {
		t.Error("/metrics holds a path parameter")
	}
}

// A nil *Metrics gives middleware that only calls the handler.
func TestHTTPNil(t *testing.T) {
	var m *metrics.Metrics
	e := echo.New()
	e.Use(m.HTTP())
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("status %d", rec.Code)
	}
}
