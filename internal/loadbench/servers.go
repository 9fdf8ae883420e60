package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/jsonlog"
	"github.com/smscode/smscode/server/metrics"
	"github.com/smscode/smscode/server/sender"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store/redisstore"
	"github.com/smscode/smscode/server/wire"
)

// The API paths the scenarios call.
const (
	sendPath   = "/api/v2/sdk/sms/send"
	verifyPath = "/api/v2/sdk/sms/verify"
)

// benchSecret is a fixed HMAC secret (64 hex digits = 32 bytes), so that the
// benchmark neither writes nor reads dev mode's .smscode/secret file.
const benchSecret = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// unlimited is a limit no scenario reaches: the runs are seconds long, so
// a count of 2^40 per window never refuses.
const unlimited = int64(1) << 40

// listening is an HTTP server on a loopback port.
type listening struct {
	URL string // http://127.0.0.1:port
	srv *http.Server
	ln  net.Listener
	err chan error
}

// listen serves srv on a free 127.0.0.1 port until close.
func listen(srv *http.Server) (*listening, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &listening{URL: "http://" + ln.Addr().String(), srv: srv, ln: ln, err: make(chan error, 1)}
	go func() { l.err <- srv.Serve(ln) }()
	return l, nil
}

// close shuts the server down, waiting briefly for requests in flight.
func (l *listening) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	if serr := <-l.err; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// baselineBody is the send request's JSON body as the baseline binds it.
type baselineBody struct {
	Mobile       string `json:"mobile"`
	Type         string `json:"type"`
	CaptchaToken string `json:"captcha_token"`
}

// newBaseline is the reference every scenario is compared with: a bare Echo
// instance (no middleware) whose handler binds the same JSON body and
// answers 200 with no body. It measures what the HTTP stack, the load
// generator and the JSON decoding cost on this machine, so that the ratios
// say what smscode adds on top.
func newBaseline() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST(sendPath, func(c echo.Context) error {
		var b baselineBody
		if err := c.Bind(&b); err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	return e
}

// serverOptions choose how the real server is built.
type serverOptions struct {
	// RedisURL, when set, puts the store in Redis (store.kind redis);
	// otherwise the store is the in-process memory store.
	RedisURL string
	// Provider replaces the null provider (the verify scenario records
	// codes with it).
	Provider sms.Provider
	// Log is the server's logger.
	Log *slog.Logger
}

// benchConfig is the configuration the real server runs with: the embedded
// defaults (dev mode and the OneAccess example application), a fixed
// secret, the null provider, no captcha, and every limit raised out of
// reach except the per-number cooldown, which scenario (b) relies on: a day
// long, so that it outlasts any run (a minute did not: a fifth round came
// after it and got a 200). Accepted sends use a new number each, so the
// cooldown never refuses them.
func benchConfig(o serverOptions) (config.Config, error) {
	cfg, err := config.Default()
	if err != nil {
		return config.Config{}, err
	}
	cfg.Secret = benchSecret
	cfg.Providers = []config.ProviderConfig{{Name: "null", Kind: "null"}}
	cfg.DefaultProviders = nil
	cfg.Limits = sender.Limits{
		NumberCooldown: 24 * time.Hour,
		NumberDaily:    unlimited,
		DevicePerHour:  unlimited,
		IPPerHour:      unlimited,
		AppDaily:       unlimited,
	}
	// The pumping defence stays on, with a ceiling out of reach, so that
	// its prefix counter is part of every send decision as in production.
	cfg.Pumping = sender.Pumping{Max: unlimited}
	if len(cfg.Apps) != 1 {
		return config.Config{}, fmt.Errorf("loadbench: the embedded defaults have %d apps, want 1", len(cfg.Apps))
	}
	// Kind none: every captcha_token passes, so that the benchmark measures
	// the send pipeline rather than a captcha check.
	cfg.Apps[0].Captcha = apps.CaptchaSettings{Kind: apps.CaptchaNone}
	// Every send of a run stays in the store (the cooldown is a day), some
	// 7 entries each: millions in a few rounds, past the memory store's
	// default cap of a million, which would turn the later rounds into
	// 503s. The benchmark measures sends, not the cap.
	cfg.Store.Memory.MaxEntries = 1 << 26
	if o.RedisURL != "" {
		cfg.Store = config.StoreConfig{Kind: "redis", Redis: redisstore.Options{URL: o.RedisURL}}
	}
	return cfg, nil
}

// realServer is the smscode server, assembled by wire.Build as
// cmd/smscode does, and listening on loopback.
type realServer struct {
	*listening
	rt *wire.Runtime
}

// startReal builds the real server and serves it with the http.Server that
// cmd/smscode uses (rt.Server.HTTPServer: the configured timeouts).
func startReal(o serverOptions) (*realServer, error) {
	cfg, err := benchConfig(o)
	if err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var ov wire.Overrides
	if o.Provider != nil {
		ov.Providers = map[string]sms.Provider{"null": o.Provider}
	}
	rt, err := wire.Build(cfg, log, ov)
	if err != nil {
		return nil, err
	}
	if err := rt.Ping(context.Background()); err != nil {
		_ = rt.Close()
		return nil, err
	}
	l, err := listen(rt.Server.HTTPServer("127.0.0.1:0"))
	if err != nil {
		_ = rt.Close()
		return nil, err
	}
	return &realServer{listening: l, rt: rt}, nil
}

// startLayer serves newLayer's server on loopback.
func startLayer(log *slog.Logger) (*listening, error) {
	srv, err := newLayer(log)
	if err != nil {
		return nil, err
	}
	return listen(srv.HTTPServer("127.0.0.1:0"))
}

// newLayer builds the HTTP layer of the real server as wire.Build builds
// it (the same server.Config, logger, and metrics that label the
// registered applications' client ids), on acceptAll instead of the send
// pipeline.
func newLayer(log *slog.Logger) (*server.Server, error) {
	cfg, err := benchConfig(serverOptions{})
	if err != nil {
		return nil, err
	}
	reg, err := apps.NewRegistry(cfg.Apps)
	if err != nil {
		return nil, err
	}
	app := &cfg.Apps[0] // benchConfig checks there is exactly one
	svc := acceptAll{res: sender.SendResult{
		// What (a)'s pipeline answers an accepted send with: the app's
		// cooldown and code lifetime, composed as wire.Build composes them.
		ResendAfter: app.Limits.Over(cfg.Limits.Over(sender.DefaultLimits)).NumberCooldown,
		ExpiresIn:   app.CodeFor(seedScenario).TTL,
		Provider:    "null",
		MessageID:   "m",
	}}
	return server.New(wire.HTTPConfig(cfg), svc, log, metrics.New(metrics.WithClientIDs(reg.HasClient)))
}

// acceptAll is a server.Service whose every send is accepted at once with
// res; nothing else is called by the layer scenario.
type acceptAll struct {
	server.Service
	res sender.SendResult
}

func (a acceptAll) Send(context.Context, sender.SendRequest) (sender.SendResult, error) {
	return a.res, nil
}

// close stops the HTTP server, then releases the store.
func (s *realServer) close() error {
	return errors.Join(s.listening.close(), s.rt.Close())
}

// newLogger is the server's logger. "info" is what cmd/smscode runs with
// (JSON at info level: one access-log line per request), written to
// io.Discard so that the lines are formatted but no terminal or disk is in
// the measurement; "off" drops records before they are formatted.
func newLogger(mode string) (*slog.Logger, error) {
	switch strings.ToLower(mode) {
	case "info":
		return slog.New(jsonlog.New(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})), nil
	case "off":
		return slog.New(slog.DiscardHandler), nil
	default:
		return nil, fmt.Errorf("-log %q: want info or off", mode)
	}
}

// codeBook records the code of every message, by number, for the verify
// scenario: it is the SMS provider of the server that scenario uses.
type codeBook struct {
	mu    sync.Mutex
	codes map[string]string // E.164 number -> last code sent
}

var _ sms.Provider = (*codeBook)(nil)

func newCodeBook() *codeBook { return &codeBook{codes: map[string]string{}} }

// Name is the configured provider's name, so the book can stand in for it.
func (b *codeBook) Name() string { return "null" }

// Send records msg's code and accepts it.
func (b *codeBook) Send(_ context.Context, msg sms.Message) (sms.Receipt, error) {
	b.mu.Lock()
	b.codes[msg.To] = msg.Code
	b.mu.Unlock()
	return sms.Receipt{Provider: "null", MessageID: msg.ID}, nil
}

// code returns the last code sent to the E.164 number.
func (b *codeBook) code(e164 string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.codes[e164]
	return c, ok
}
