// Command smscode serves the SMS verification-code API.
//
//	smscode                      # embedded defaults: dev mode, memory store, log provider
//	smscode -config smscode.yaml # a configuration file (see config.example.yaml)
//	smscode -addr 0.0.0.0:8080   # override the listen address
//	smscode -metrics-addr 127.0.0.1:9090 # serve /metrics there only, not with the API
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/tracing"
	"github.com/smscode/smscode/server/wire"
)

// shutdownTimeout is how long in-flight requests get to finish after a
// termination signal.
const shutdownTimeout = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "smscode:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends (a termination signal), then shuts the
// listeners down gracefully. listening, when not nil, is told the API's
// and the metrics listener's addresses (nil when there is none) once both
// accept connections.
func run(ctx context.Context, args []string, listening func(api, metrics net.Addr)) error {
	fs := flag.NewFlagSet("smscode", flag.ContinueOnError)
	configPath := fs.String("config", "", "configuration file (YAML); empty: the embedded development defaults")
	addr := fs.String("addr", "", "listen address, overriding the configuration (e.g. 127.0.0.1:8080)")
	metricsAddr := fs.String("metrics-addr", "", "listen address of a separate /metrics listener, overriding the configuration's metrics_addr (then the API listener does not serve /metrics)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if *metricsAddr != "" {
		cfg.MetricsAddr = *metricsAddr
	}
	log := newLogger(cfg.Log.Level)
	// Tracing is off unless OTEL_* variables configure it (README, Tracing).
	tp, stopTracing, err := tracing.Setup(ctx, log)
	if err != nil {
		return err
	}
	defer func() { // flushes the last spans, within tracing.ShutdownTimeout
		if err := stopTracing(context.Background()); err != nil {
			log.Warn(err.Error())
		}
	}()
	rt, err := wire.Build(cfg, log, wire.Overrides{TracerProvider: tp})
	if err != nil {
		return err
	}
	defer rt.Close()
	if cfg.DevMode {
		log.Warn("dev mode: test captcha tokens are accepted and the log provider writes codes to the log; never use in production")
	}

	// The servers to run: the API, and the metrics listener when set.
	type served struct {
		name string
		srv  *http.Server
		ln   net.Listener
	}
	var servers []served
	defer func() {
		for _, s := range servers {
			_ = s.ln.Close() // when Serve never ran; harmless after Shutdown
		}
	}()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	servers = append(servers, served{"api", rt.Server.HTTPServer(cfg.Addr), ln})
	var metricsNet net.Addr
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics_addr: %w", err)
		}
		servers = append(servers, served{"metrics", rt.Server.MetricsHTTPServer(cfg.MetricsAddr), mln})
		metricsNet = mln.Addr()
	}

	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s listener: %w", s.name, err)
				return
			}
			errc <- nil
		}()
	}
	attrs := []any{slog.String("addr", ln.Addr().String()), slog.Bool("dev_mode", cfg.DevMode), slog.String("store", storeKind(cfg))}
	if metricsNet != nil {
		attrs = append(attrs, slog.String("metrics_addr", metricsNet.String()))
	}
	log.Info("smscode listening", attrs...)
	if listening != nil {
		listening(ln.Addr(), metricsNet)
	}

	pending := len(servers) // Serve calls that have not returned
	var errs []error
	select {
	case err := <-errc:
		// A listener failed by itself: shut the other down too.
		pending--
		errs = append(errs, err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown of the %s listener: %w", s.name, err))
		}
	}
	for ; pending > 0; pending-- {
		if err := <-errc; err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func storeKind(cfg config.Config) string {
	if cfg.Store.Kind == "" {
		return "memory"
	}
	return cfg.Store.Kind
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
