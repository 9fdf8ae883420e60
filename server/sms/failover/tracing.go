package failover

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// SpanAttempt is the name of the span of one attempt, a child of the
// request's span. Its attributes are the provider's configured name, the
// attempt's number (1 for the first provider tried) and its outcome (the
// Outcome constants); never the message, its code or the number, and no
// error text (a gateway's answer may quote the message: the failover's log
// line of the same trace has the cause). The status is Error unless the
// provider accepted the message.
const SpanAttempt = "sms.attempt"

// Attributes of the attempt spans.
const (
	AttrProvider = attribute.Key("smscode.provider")
	AttrAttempt  = attribute.Key("smscode.attempt")
	AttrOutcome  = attribute.Key("smscode.outcome")
)

const tracerScope = "github.com/smscode/smscode/server/sms/failover"

// newTracer is tp's tracer, or nil when tp records nothing (nil or the
// no-op provider): startAttempt then costs nothing, not even the context
// that a no-op tracer would allocate.
func newTracer(tp trace.TracerProvider) trace.Tracer {
	if _, isNoop := tp.(noop.TracerProvider); tp == nil || isNoop {
		return nil
	}
	return tp.Tracer(tracerScope)
}

// noSpan is what startAttempt returns without a tracer: a span of its own (not
// the caller's, which ending it would end), boxed once.
var noSpan trace.Span = noop.Span{}

// startAttempt starts the span of attempt n (from 1) through provider.
func (f *Failover) startAttempt(ctx context.Context, provider string, n int) (context.Context, trace.Span) {
	if f.tracer == nil {
		return ctx, noSpan
	}
	return f.tracer.Start(ctx, SpanAttempt, trace.WithAttributes(AttrProvider.String(provider), AttrAttempt.Int(n)))
}

// endAttempt records the attempt's outcome and ends its span.
func endAttempt(span trace.Span, outcome string) {
	if span.IsRecording() {
		span.SetAttributes(AttrOutcome.String(outcome))
		if outcome != OutcomeAccepted {
			span.SetStatus(codes.Error, outcome)
		}
	}
	span.End()
}
