// Command smscode serves the SMS verification-code API.
//
//	smscode                      # embedded defaults: dev mode, memory store, log provider
//	smscode -config smscode.yaml # a configuration file (see config.example.yaml)
//	smscode -addr 0.0.0.0:8080   # override the listen address
//	smscode -metrics-addr 127.0.0.1:9090 # serve /metrics there only, not with the API
//	smscode -version             # version, revision and Go version
//	smscode check-config -config smscode.yaml # validate a file, then exit
//
// Signals: SIGTERM or SIGINT drains (/readyz answers 503 for
// shutdown.drain_delay), closes the listeners and waits for in-flight
// requests (shutdown.timeout); a second one stops at once. SIGHUP reloads
// the -config file (apps, tenants, templates, limits, providers). Exit
// status: 0 on a clean stop, -h, -version and a valid check-config; 1 on an
// error; 2 on a usage error.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/smscode/smscode/internal/buildinfo"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/jsonlog"
	"github.com/smscode/smscode/server/tracing"
	"github.com/smscode/smscode/server/wire"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal its default action is back: a second SIGTERM
	// or Ctrl-C ends the process at once, drain or not.
	go func() { <-ctx.Done(); stop() }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	err := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, reload: hup})
	stop()
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2) // flag has printed the error and the usage
	case err != nil:
		fmt.Fprintln(os.Stderr, "smscode:", err)
		os.Exit(1)
	}
}

// errUsage is a command line that does not parse; the message and the
// usage are already printed.
var errUsage = errors.New("usage")

// env is what run gets from its process: output streams, the reload
// signal, and hooks that tests use to follow it.
type env struct {
	stdout, stderr io.Writer
	// reload delivers SIGHUP: each value reloads the -config file.
	reload <-chan os.Signal
	// listening, when not nil, is told the API's and the metrics
	// listener's addresses (nil when there is none) once both accept
	// connections.
	listening func(api, metrics net.Addr)
	// reloaded, when not nil, is told each reload's outcome.
	reloaded func(error)
}

// run runs the command line args: serves until ctx ends (a termination
// signal), then drains and shuts the listeners down gracefully; or, for
// -h, -version and check-config, prints and returns.
func run(ctx context.Context, args []string, e env) error {
	if e.stdout == nil {
		e.stdout = io.Discard
	}
	if e.stderr == nil {
		e.stderr = io.Discard
	}
	if len(args) > 0 && args[0] == "check-config" {
		return checkConfig(args[1:], e)
	}
	fs := flag.NewFlagSet("smscode", flag.ContinueOnError)
	configPath := fs.String("config", "", "configuration file (YAML); empty: the embedded development defaults")
	addr := fs.String("addr", "", "listen address, overriding the configuration (e.g. 127.0.0.1:8080)")
	metricsAddr := fs.String("metrics-addr", "", "listen address of a separate /metrics listener, overriding the configuration's metrics_addr (then the API listener does not serve /metrics)")
	version := fs.Bool("version", false, "print the version, revision and Go version, then exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage:\n  smscode [flags]\n  smscode check-config -config FILE\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nSignals: SIGTERM/SIGINT drain and stop (a second one stops at once); SIGHUP reloads -config.\n")
	}
	if help, err := parseFlags(fs, args, e); help || err != nil {
		return err
	}
	if *version {
		bi := buildinfo.Get()
		fmt.Fprintf(e.stdout, "smscode %s (revision %s, %s)\n", bi.Version, bi.Revision, bi.GoVersion)
		return nil
	}
	// The same steps at start and on every reload, so that a reload sees
	// the flags' overrides as the start did.
	load := func() (config.Config, error) {
		cfg, err := config.Load(*configPath)
		if err != nil {
			return cfg, err
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
		return cfg, nil
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log.Level, e.stderr)
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
	if e.listening != nil {
		e.listening(ln.Addr(), metricsNet)
	}

	// SIGHUP: reload until the shutdown begins. stopReload ends the loop
	// and waits for a reload under way, so none runs after the drain starts.
	reloadCtx, stopReload := context.WithCancel(ctx)
	reloadDone := make(chan struct{})
	go func() {
		defer close(reloadDone)
		for {
			select {
			case <-reloadCtx.Done():
				return
			case <-e.reload:
				err := reload(rt, load, log)
				if e.reloaded != nil {
					e.reloaded(err)
				}
			}
		}
	}()
	defer func() { stopReload(); <-reloadDone }()

	pending := len(servers) // Serve calls that have not returned
	var errs []error
	select {
	case err := <-errc:
		// A listener failed by itself: shut the other down too, at once.
		pending--
		errs = append(errs, err)
	case <-ctx.Done():
		stopReload()
		<-reloadDone
		if err := drain(rt, servers[0].srv, log, errc); err != nil {
			pending--
			errs = append(errs, err)
		}
	}
	timeout := rt.LiveConfig().Shutdown.GraceTimeout()
	log.Info("shutting down: finishing in-flight requests", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
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

// drain is the first step of the shutdown: /readyz answers 503 while the
// API is served as before for shutdown.drain_delay, so that load balancers
// take the instance out before its listener closes. Keep-alives are turned
// off, so that clients holding a connection open a new one (elsewhere)
// after their next answer. It returns early with the error of a listener
// that fails meanwhile.
func drain(rt *wire.Runtime, api *http.Server, log *slog.Logger, errc <-chan error) error {
	rt.Server.Drain()
	api.SetKeepAlivesEnabled(false)
	d := rt.LiveConfig().Shutdown.DrainDelay
	if d <= 0 {
		return nil
	}
	log.Info("draining: /readyz answers 503; the listeners close after the drain delay", "drain_delay", d.String())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case err := <-errc:
		return err
	}
}

// reload loads the configuration again and, when it is valid, makes it
// the live one; otherwise the running one stays, and the error is logged.
// Config errors name keys and values of settings, never a secret.
func reload(rt *wire.Runtime, load func() (config.Config, error), log *slog.Logger) error {
	cfg, err := load()
	if err == nil {
		err = rt.Reload(cfg)
	}
	if err != nil {
		log.Error("config reload refused: still serving the previous configuration", "error", err.Error())
		return err
	}
	log.Info("config reloaded", "apps", len(cfg.Apps), "providers", len(cfg.Providers))
	return nil
}

// checkConfig is `smscode check-config -config FILE`: it loads the file as
// the server would (environment included), validates it and builds
// everything that can be built offline (wire.Check), then prints "ok" or
// returns the error.
func checkConfig(args []string, e env) error {
	fs := flag.NewFlagSet("smscode check-config", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (YAML) to check; required")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage:\n  smscode check-config -config FILE\n\n"+
			"Loads FILE as smscode would (${VAR} and SMSCODE_* from the environment), validates it and\n"+
			"builds the apps, templates, captcha checks, providers and failover chains, without opening\n"+
			"a connection. Prints \"ok\" and exits 0, or prints the error and exits 1.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args, e); help || err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "check-config: -config FILE is required, and nothing else")
		fs.SetOutput(e.stderr)
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*path)
	if err == nil {
		err = wire.Check(cfg)
	}
	if err == nil {
		// The OTEL_* variables stop start-up when Setup refuses them.
		err = tracing.Check()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", *path)
	return nil
}

// parseFlags parses args. -h prints the usage on stdout and reports help
// (the caller returns nil: exit status 0); a bad flag prints the error and
// the usage on stderr and returns errUsage (exit status 2).
func parseFlags(fs *flag.FlagSet, args []string, e env) (help bool, err error) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err = fs.Parse(args)
	fs.SetOutput(e.stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(e.stdout)
		fs.Usage()
		return true, nil
	case err != nil:
		_, _ = e.stderr.Write(out.Bytes())
		return false, errUsage
	}
	return false, nil
}

func storeKind(cfg config.Config) string {
	if cfg.Store.Kind == "" {
		return "memory"
	}
	return cfg.Store.Kind
}

func newLogger(level string, w io.Writer) *slog.Logger {
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
	// jsonlog writes what slog.JSONHandler writes, for less (server/jsonlog).
	return slog.New(jsonlog.New(w, &slog.HandlerOptions{Level: l}))
}
