// Command smscode serves the SMS verification-code API.
//
//	smscode                      # embedded defaults: dev mode, memory store, log provider
//	smscode -config smscode.yaml # a configuration file (see config.example.yaml)
//	smscode -addr 0.0.0.0:8080   # override the listen address
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
)

// shutdownTimeout is how long in-flight requests get to finish after a
// termination signal.
const shutdownTimeout = 15 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "smscode:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("smscode", flag.ContinueOnError)
	configPath := fs.String("config", "", "configuration file (YAML); empty: the embedded development defaults")
	addr := fs.String("addr", "", "listen address, overriding the configuration (e.g. 127.0.0.1:8080)")
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
	log := newLogger(cfg.Log.Level)
	rt, err := config.Build(cfg, log, config.Overrides{})
	if err != nil {
		return err
	}
	defer rt.Close()
	if cfg.DevMode {
		log.Warn("dev mode: test captcha tokens are accepted and the log provider writes codes to the log; never use in production")
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := rt.Server.HTTPServer(cfg.Addr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("smscode listening", slog.String("addr", ln.Addr().String()),
		slog.Bool("dev_mode", cfg.DevMode), slog.String("store", storeKind(cfg)))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
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
