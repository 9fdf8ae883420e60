// Package spans is what code that starts spans needs, without the
// exporters of package tracing: a tracer that is nil when tracing is off,
// so that the request path then costs nothing (not even the context that a
// no-op tracer would allocate).
package spans

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Enabled reports whether tp records spans: false for nil and for the
// no-op provider that tracing.Setup returns when tracing is off.
func Enabled(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, isNoop := tp.(noop.TracerProvider)
	return !isNoop
}

// Tracer is tp's tracer for scope, or nil when tp records nothing.
func Tracer(tp trace.TracerProvider, scope string, opts ...trace.TracerOption) trace.Tracer {
	if !Enabled(tp) {
		return nil
	}
	return tp.Tracer(scope, opts...)
}

// none is what Start returns without a tracer: a span of its own (not the
// caller's, which ending it would end), boxed once.
var none trace.Span = noop.Span{}

// Start starts a span named name under ctx's with t, or returns ctx and a
// no-op span when t is nil (tracing off).
func Start(t trace.Tracer, ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if t == nil {
		return ctx, none
	}
	return t.Start(ctx, name, opts...)
}
