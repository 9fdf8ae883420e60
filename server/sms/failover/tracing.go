package failover

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server/tracing/spans"
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

// startAttempt starts the span of attempt n (from 1) through provider.
func (f *Failover) startAttempt(ctx context.Context, provider string, n int) (context.Context, trace.Span) {
	if f.tracer == nil { // tracing off: not even the attributes
		return spans.Start(nil, ctx, SpanAttempt)
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
