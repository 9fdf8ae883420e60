package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode"
	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/metrics"
	"github.com/smscode/smscode/server/tracing"
)

// Server is the HTTP API: the generated routes on Echo, behind the
// middleware that validates requests and answers errors as the spec says.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	routes  *routes // MountReceipts adds to them
	log     *slog.Logger
	metrics *metrics.Metrics
	// draining turns /readyz to 503 for the shutdown drain (Drain).
	draining atomic.Bool
}

// New builds the server for svc. log receives the access log, refusals and
// the causes of 5xx answers (nil: discarded); m counts error answers and
// the RED metrics of every request (Metrics.HTTP) and is
// served on /metrics (nil: no metrics, no /metrics route; with
// cfg.MetricsElsewhere only by MetricsHTTPServer). cfg's zero
// fields take their defaults; New fails on a negative limit or an invalid
// trusted proxy.
func New(cfg Config, svc Service, log *slog.Logger, m *metrics.Metrics) (*Server, error) {
	if svc == nil {
		return nil, errors.New("server: a Service is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	spec, err := genserver.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("server: loading the embedded spec: %w", err)
	}
	level := slog.LevelDebug
	if cfg.DevMode {
		level = slog.LevelInfo
	}
	validate, err := kit.NewLoggingValidator(spec, log, level)
	if err != nil {
		return nil, err
	}
	specJSON, specYAML, err := specDocuments()
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(proxies)
	e.HTTPErrorHandler = kit.ErrorHandler(log, m)
	// Tracing, when on, before the rest: the server span then covers all
	// of it, and every later layer's context holds the span.
	var chain []echo.MiddlewareFunc
	if tracing.Enabled(cfg.TracerProvider) {
		chain = append(chain, tracing.Middleware(cfg.TracerProvider))
	}
	// The order matters: the request id first, so every answer and log line
	// has it; the access log around everything that can fail, so it sees
	// the final status, and the HTTP metrics around the access log, which
	// answers errors; the size limits before anything reads the request.
	// routes composes the chain once per route (see routes). The receipts'
	// chain is the same but for its body limit (MountReceipts).
	chain = append(chain,
		kit.RequestContext(cfg.RequestTimeout),
		m.HTTP(),
		kit.AccessLog(log),
		kit.Recover(log),
		kit.HeaderLimit(cfg.MaxHeaderBytes),
	)
	withBodyLimit := func(limit int64) []echo.MiddlewareFunc {
		// Clipped: each append copies chain, the two chains share no array.
		return append(slices.Clip(chain), kit.BodyLimit(limit), validate)
	}
	r := newRoutes(e, withBodyLimit(cfg.BodyLimit)...)
	r.chainFor(ReceiptsRoute, withBodyLimit(cfg.ReceiptBodyLimit)...)

	s := &Server{cfg: cfg, echo: e, routes: r, log: log, metrics: m}
	hs := &handlers{svc: svc}
	// No strict middleware: sendBodyBinder calls hs itself.
	si := genserver.NewStrictHandler(hs, nil)
	r.replace[routeKey{http.MethodPost, sendRoute}] = func(generated echo.HandlerFunc) echo.HandlerFunc {
		if h, ok := fastSendSms(sendBodyBinder{ServerInterface: si, h: hs}, generated); ok {
			return h
		}
		return generated
	}
	genserver.RegisterHandlers(r, si)
	r.GET("/openapi.json", blob(echo.MIMEApplicationJSON, specJSON))
	r.GET("/openapi.yaml", blob("application/yaml", specYAML))
	r.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, status{Status: "ok"})
	})
	r.GET("/readyz", func(c echo.Context) error {
		if s.draining.Load() {
			// Written here, not returned: a drain is not a fault, so it is
			// neither logged at error level nor counted as SYS.0002.
			return kit.WriteError(c, apierr.New(gen.ErrorCodeStoreUnavailable))
		}
		if err := svc.Ready(c.Request().Context()); err != nil {
			return apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
		}
		return c.JSON(http.StatusOK, status{Status: "ok"})
	})
	if m != nil && !cfg.MetricsElsewhere {
		r.GET("/metrics", echo.WrapHandler(m.Handler()))
	}
	return s, nil
}

// ReceiptsRoute is the route of the delivery receipts that SMS gateways
// post (receiveSmsReceipt in the spec, x-raw-request: the validator passes
// them to their handler, which checks each gateway's signature on the raw
// body).
const ReceiptsRoute = "/api/v2/sdk/sms/receipts/:provider"

// MountReceipts serves the delivery receipts (ReceiptsRoute, POST) with h,
// behind the same middleware as the API, the body limit being
// Config.ReceiptBodyLimit; their chain is composed here, once, as the
// API's routes' are in New. Call it before serving, as Echo's routes are
// added.
func (s *Server) MountReceipts(h echo.HandlerFunc) { s.routes.POST(ReceiptsRoute, h) }

// Drain makes /readyz answer 503 SYS.0002 from now on, while every other
// route is served as before: the first step of a graceful shutdown, so that
// load balancers stop sending before the listener closes.
func (s *Server) Drain() { s.draining.Store(true) }

// status is the body of /healthz and /readyz when all is well.
type status struct {
	Status string `json:"status"`
}

// Handler is the server as an http.Handler, for httptest or a custom
// http.Server.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo is the underlying Echo instance, to mount more routes (they get the
// same middleware; the validator passes routes that are not in the spec).
// Middleware added to it with Use would not run for the server's own
// routes, whose chain is composed when New registers them (see routes).
func (s *Server) Echo() *echo.Echo { return s.echo }

// HTTPServer returns an http.Server for addr with the configured timeouts.
// Its MaxHeaderBytes is twice Config.MaxHeaderBytes, so that headers a
// little over the limit reach HeaderLimit, which answers with the JSON
// error body, rather than Go's plain-text 431.
func (s *Server) HTTPServer(addr string) *http.Server {
	return s.httpServer(addr, s.echo)
}

// httpServer is an http.Server for addr serving h, with the configured
// timeouts and header limit: the API's and the metrics listener's alike.
func (s *Server) httpServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    2 * s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// MetricsHTTPServer returns an http.Server for addr that serves only GET
// /metrics (anything else is a plain 404), with the configured timeouts,
// for a listener apart from the API's; nil when the server has no
// metrics. Its answers do not go through the API's middleware: no access
// log line, no request id, nothing counted.
func (s *Server) MetricsHTTPServer(addr string) *http.Server {
	if s.metrics == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	return s.httpServer(addr, mux)
}

// ipExtractor is how the client address (sender.Caller.RemoteIP) is found:
// the connection's address, or, behind trusted proxies, the first
// X-Forwarded-For hop from the right that is not one of them. Echo's
// extractor trusts private and loopback ranges by default; only the
// configured ranges are trusted here.
func ipExtractor(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(p))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func blob(contentType string, b []byte) echo.HandlerFunc {
	return func(c echo.Context) error { return c.Blob(http.StatusOK, contentType, b) }
}

// specDocuments returns the spec as JSON (what genserver embeds: the
// spec's content, without its comments, members sorted) and as YAML: the
// committed openapi.yaml, byte for byte (package smscode embeds the file), so
// that a portal publishing /openapi.yaml shows the contract as written.
func specDocuments() (jsonDoc, yamlDoc []byte, err error) {
	jsonDoc, err = genserver.GetSpecJSON()
	if err != nil {
		return nil, nil, fmt.Errorf("server: reading the embedded spec: %w", err)
	}
	return jsonDoc, []byte(smscode.OpenAPIYAML), nil
}
