// Package tracing sets up OpenTelemetry tracing for smscode from the
// standard OTEL_* environment variables, and holds what records the server
// span of each request (Middleware) and puts trace and span ids on log lines
// (LogHandler).
//
// Tracing is off unless configured: Setup returns a no-op TracerProvider
// when no OTLP endpoint and no OTEL_TRACES_EXPORTER is set, when
// OTEL_TRACES_EXPORTER is "none", or when OTEL_SDK_DISABLED is "true". Then
// nothing is installed on the request path (Enabled reports false and the
// server adds no middleware). This differs from the OpenTelemetry default
// (an SDK exporting to localhost:4318) on purpose: a binary that nobody
// configured for tracing sends nothing anywhere.
//
// Components take a trace.TracerProvider in their configuration; nil means
// no tracing. Nothing here sets the otel globals except the error handler,
// so that export failures reach the service's log.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/smscode/smscode/internal/buildinfo"
	"github.com/smscode/smscode/server/tracing/spans"
)

// ScopeName is the instrumentation scope of the server spans that
// Middleware records. (Each component names its own scope: its package.)
const ScopeName = "github.com/smscode/smscode/server/tracing"

// DefaultServiceName is service.name when OTEL_SERVICE_NAME (or
// OTEL_RESOURCE_ATTRIBUTES) does not set one.
const DefaultServiceName = "smscode"

// ShutdownTimeout bounds the flush of the last spans at exit when the
// context given to the shutdown function has no earlier deadline.
const ShutdownTimeout = 5 * time.Second

// The environment variables that Setup reads itself; the SDK and the OTLP
// exporters read the others (endpoint, headers, timeout, sampler, batch
// sizes, resource attributes).
const (
	envSDKDisabled    = "OTEL_SDK_DISABLED"
	envTracesExporter = "OTEL_TRACES_EXPORTER"
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
)

// Setup returns the TracerProvider that the OTEL_* environment variables
// describe, and the function that flushes and stops it (call it at exit;
// it is bounded by ShutdownTimeout). When tracing is not configured it
// returns a noop.TracerProvider and a shutdown that does nothing. log, when
// not nil, receives the SDK's errors (a failed export) at warn level.
//
// Tracing is on when OTEL_TRACES_EXPORTER is "otlp", or when it is unset
// and OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set; OTEL_SDK_DISABLED=true turns it off whatever else is set. The OTLP
// protocol (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else
// OTEL_EXPORTER_OTLP_PROTOCOL) is http/protobuf (the default) or grpc.
// An exporter or protocol that smscode does not have is an error, so that a
// typo does not silently turn tracing off.
func Setup(ctx context.Context, log *slog.Logger) (trace.TracerProvider, func(context.Context) error, error) {
	on, err := wanted(os.Getenv)
	if err != nil || !on {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, err
	}
	exp, err := newExporter(ctx, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	res, err := newResource(ctx)
	if err != nil {
		return nil, nil, err
	}
	if log != nil {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing: "+err.Error(), slog.String("component", "opentelemetry"))
		}))
	}
	// The sampler is the SDK's: OTEL_TRACES_SAMPLER, parent-based
	// always-on by default, so an incoming sampled traceparent is followed.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	shutdown := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("tracing: flushing the last spans: %w", err)
		}
		return nil
	}
	return tp, shutdown, nil
}

// wanted decides from the environment whether tracing is on.
func wanted(getenv func(string) string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(getenv(envSDKDisabled)), "true") {
		return false, nil
	}
	switch exporters := strings.TrimSpace(getenv(envTracesExporter)); exporters {
	case "":
		return getenv(envEndpoint) != "" || getenv(envTracesEndpoint) != "", nil
	case "none":
		return false, nil
	case "otlp":
		// The exporter's default endpoint (localhost) when none is set.
		return true, nil
	default:
		return false, fmt.Errorf("tracing: %s=%q: smscode exports traces with otlp only (or none)", envTracesExporter, exporters)
	}
}

// Check reports whether the OTEL_* environment is one Setup accepts (the
// exporter and the OTLP protocol), without making an exporter: what
// `smscode check-config` runs, so that a pipeline catches what would stop
// start-up.
func Check() error {
	on, err := wanted(os.Getenv)
	if err != nil || !on {
		return err
	}
	_, err = otlpProtocol(os.Getenv)
	return err
}

// otlpProtocol is the configured OTLP protocol: http/protobuf (default) or grpc.
func otlpProtocol(getenv func(string) string) (string, error) {
	protocol := strings.TrimSpace(getenv(envTracesProtocol))
	if protocol == "" {
		protocol = strings.TrimSpace(getenv(envProtocol))
	}
	switch protocol {
	case "", "http/protobuf":
		return "http/protobuf", nil
	case "grpc":
		return protocol, nil
	}
	return "", fmt.Errorf("tracing: OTLP protocol %q: want http/protobuf or grpc", protocol)
}

// newExporter makes the OTLP exporter of the configured protocol; the
// exporter reads its endpoint, headers, TLS, compression and timeout from
// the OTEL_EXPORTER_OTLP_* variables itself.
func newExporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	protocol, err := otlpProtocol(getenv)
	if err != nil {
		return nil, err
	}
	var exp sdktrace.SpanExporter
	if protocol == "grpc" {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	return exp, nil
}

// newResource describes the process: service.name (DefaultServiceName
// unless the environment names it), service.version from buildinfo, the
// SDK and the host, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME,
// which win.
func newResource(ctx context.Context) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(DefaultServiceName), semconv.ServiceVersion(buildinfo.Get().Version)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	// A partial resource (a malformed OTEL_RESOURCE_ATTRIBUTES pair) is
	// still usable; only a worse failure stops the start.
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return res, nil
}

// Enabled reports whether tp records spans: false for nil and for the
// no-op provider that Setup returns when tracing is off, so that callers
// can leave tracing off the request path altogether.
func Enabled(tp trace.TracerProvider) bool { return spans.Enabled(tp) }
