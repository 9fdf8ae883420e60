package sender

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/smscode/smscode/server/apierr"
)

// The send pipeline's spans, children of the request's server span: the
// captcha check and the store's decision. Their attributes are bounded and
// hold no number, code, token or key: an outcome, the limit that refused
// (a name from the code) and the answer's error code.
const (
	spanCaptcha = "captcha.verify"
	spanReserve = "store.reserve"
	spanVerify  = "store.verify"
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

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(tracerScope)
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
