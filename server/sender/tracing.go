package sender

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/tracing/spans"
)

// The send pipeline's spans, children of the request's server span: the
// captcha check and the store's decision. Their attributes are bounded and
// hold no number, code, token or key: an outcome, the limit that refused
// (a name from the code) and the answer's error code.
const (
	spanCaptcha = "captcha.verify"
	spanReserve = "store.reserve"
	spanVerify  = "store.verify"
	// spanConversion is the learning pumping defence's step of a send
	// (conversion.go), only when the rule is on.
	spanConversion = "store.conversion"
)

// Attributes of the send pipeline's spans. The server span also gets the
// application (a registered client id) and the scenario (the spec's enum)
// once the request resolved.
const (
	AttrClientID  = attribute.Key("smscode.client_id")
	AttrScenario  = attribute.Key("smscode.scenario")
	AttrOutcome   = attribute.Key("smscode.outcome")
	AttrLimit     = attribute.Key("smscode.limit")
	AttrErrorCode = attribute.Key("smscode.error_code")
)

// tracerScope is the instrumentation scope of the pipeline's spans.
const tracerScope = "github.com/smscode/smscode/server/sender"

// startSpan starts a span named name under ctx's, when tracing is on.
func (s *Service) startSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	return spans.Start(s.tracer, ctx, name)
}

// setLimit records the name of the limit that refused. (Guarded: the
// attributes of a call through the Span interface escape, even to a
// span that records nothing.)
func setLimit(span trace.Span, name string) {
	if span.IsRecording() {
		span.SetAttributes(AttrLimit.String(name))
	}
}

// endSpan records outcome and, when err is not nil, its error code (an
// *apierr.Error's), then ends span. The status is Error only for an error
// of the server's (5xx: store or captcha service unavailable); a refusal is
// the check doing its job. No error text: a cause may quote a store or a
// gateway, and the log line of the same request (same trace_id) has it.
func endSpan(span trace.Span, outcome string, err error) {
	if span.IsRecording() {
		span.SetAttributes(AttrOutcome.String(outcome))
		if err != nil {
			e := apierr.From(err)
			span.SetAttributes(AttrErrorCode.String(string(e.Code)))
			if e.Status() >= 500 {
				span.SetStatus(codes.Error, string(e.Code))
			}
		}
	}
	span.End()
}
