package spans_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/smscode/smscode/server/tracing/spans"
)

func TestTracerOffAndOn(t *testing.T) {
	ctx := context.Background()
	if spans.Tracer(nil, "x") != nil || spans.Enabled(nil) {
		t.Error("a nil provider gave a tracer")
	}
	if spans.Tracer(noop.NewTracerProvider(), "x") != nil {
		t.Error("the no-op provider gave a tracer")
	}
	got, span := spans.Start(nil, ctx, "off")
	if got != ctx || span.IsRecording() {
		t.Error("Start without a tracer changed the context or records")
	}
	span.End() // ends nothing of the caller's

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := spans.Tracer(tp, "scope")
	if tr == nil || !spans.Enabled(tp) {
		t.Fatal("no tracer from a recording provider")
	}
	_, span = spans.Start(tr, ctx, "on")
	span.End()
	if s := exp.GetSpans(); len(s) != 1 || s[0].Name != "on" || s[0].InstrumentationScope.Name != "scope" {
		t.Fatalf("spans %+v, want one named on in scope", s)
	}
}
