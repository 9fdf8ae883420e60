package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server/sms/smstest"
	"github.com/smscode/smscode/server/sms/webhook"
)

// The request carries the W3C traceparent of the span in Send's context,
// so that the endpoint joins the trace; without a span, no traceparent.
func TestTraceparent(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	// The caller's span context carries a tracestate (as a traceparent
	// from an API client can): it must not reach the gateway.
	ts, err := trace.ParseTraceState("vendor=client-chosen")
	if err != nil {
		t.Fatal(err)
	}
	callerCtx := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true}))
	traced, span := tp.Tracer("test").Start(callerCtx, "attempt")
	defer span.End()
	tests := []struct {
		name string
		ctx  context.Context
		want trace.SpanContext // zero: no header
	}{
		{"span in context", traced, span.SpanContext()},
		{"no span", context.Background(), trace.SpanContext{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header http.Header
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				header = r.Header.Clone()
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			p, err := webhook.New(webhook.Config{URL: srv.URL, Secret: testSecret}, webhook.WithHTTPClient(srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Send(tt.ctx, smstest.Message()); err != nil {
				t.Fatal(err)
			}
			got := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(header)))
			if !tt.want.IsValid() {
				if v := header.Get("traceparent"); v != "" {
					t.Errorf("traceparent %q, want none", v)
				}
				return
			}
			if v := header.Get("tracestate"); v != "" {
				t.Errorf("tracestate %q sent to the gateway, want none", v)
			}
			if got.TraceID() != tt.want.TraceID() || got.SpanID() != tt.want.SpanID() || !got.IsSampled() {
				t.Errorf("traceparent %q, want trace %s span %s sampled", header.Get("traceparent"), tt.want.TraceID(), tt.want.SpanID())
			}
		})
	}
}
