package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server/tracing"
)

// recorder is a TracerProvider that keeps every ended span in memory.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestMiddleware: one server span per request, named by the route
// template, with bounded attributes, as a child of an incoming traceparent.
func TestMiddleware(t *testing.T) {
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name, method, target, traceparent string
		wantName, wantRoute               string // wantRoute "": no http.route
		wantMethod                        string
		wantStatus                        int
		wantError                         bool
	}{
		{name: "route template, not the path", method: "GET", target: "/items/13812345678?code=123456",
			wantName: "GET /items/:id", wantRoute: "/items/:id", wantMethod: "GET", wantStatus: 200},
		{name: "no route: the method only", method: "GET", target: "/nope/13812345678",
			wantName: "GET", wantMethod: "GET", wantStatus: 404},
		{name: "unknown method", method: "PROPFIND", target: "/items/1",
			wantName: "_OTHER /items/:id", wantRoute: "/items/:id", wantMethod: "_OTHER", wantStatus: 405},
		{name: "5xx is an error", method: "POST", target: "/fail",
			wantName: "POST /fail", wantRoute: "/fail", wantMethod: "POST", wantStatus: 500, wantError: true},
		{name: "incoming traceparent", method: "GET", target: "/items/7", traceparent: parent,
			wantName: "GET /items/:id", wantRoute: "/items/:id", wantMethod: "GET", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, exp := recorder(t)
			e := echo.New()
			e.Use(tracing.Middleware(tp))
			var seen trace.SpanContext
			e.GET("/items/:id", func(c echo.Context) error {
				seen = trace.SpanContextFromContext(c.Request().Context())
				return c.String(http.StatusOK, "ok")
			})
			e.POST("/fail", func(echo.Context) error { return errors.New("boom") })

			req := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.traceparent != "" {
				req.Header.Set("traceparent", tt.traceparent)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			a := attrs(s)
			if s.Name != tt.wantName || s.SpanKind != trace.SpanKindServer {
				t.Errorf("span %q kind %v, want %q, server", s.Name, s.SpanKind, tt.wantName)
			}
			if got := a["http.route"].AsString(); got != tt.wantRoute {
				t.Errorf("http.route %q, want %q", got, tt.wantRoute)
			}
			if a["http.request.method"].AsString() != tt.wantMethod || a["http.response.status_code"].AsInt64() != int64(tt.wantStatus) {
				t.Errorf("method %v, status %v", a["http.request.method"], a["http.response.status_code"])
			}
			if (s.Status.Code == codes.Error) != tt.wantError || (a["error.type"].AsString() == "500") != tt.wantError {
				t.Errorf("status %v, error.type %q; want error %v", s.Status, a["error.type"].AsString(), tt.wantError)
			}
			for _, kv := range s.Attributes {
				if v := kv.Value.String(); strings.Contains(v, "13812345678") || strings.Contains(v, "123456") || strings.Contains(v, "PROPFIND") {
					t.Errorf("attribute %s = %q holds what the client wrote", kv.Key, v)
				}
			}
			if tt.traceparent != "" {
				if s.Parent.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent.SpanID().String() != "00f067aa0ba902b7" ||
					!s.Parent.IsRemote() || s.SpanContext.TraceID() != s.Parent.TraceID() {
					t.Errorf("parent %v, trace %v; want the incoming traceparent's", s.Parent, s.SpanContext.TraceID())
				}
			} else if s.Parent.IsValid() {
				t.Errorf("parent %v, want none", s.Parent)
			}
			if tt.wantRoute == "/items/:id" && tt.wantStatus == 200 && seen.SpanID() != s.SpanContext.SpanID() {
				t.Errorf("the handler's context holds span %v, want the server span %v", seen.SpanID(), s.SpanContext.SpanID())
			}
		})
	}
}

// TestLogHandler: a record logged with a span's context gets its trace_id
// and span_id; one without a span, or with an invalid one, gets neither;
// WithAttrs and WithGroup keep the wrapping.
func TestLogHandler(t *testing.T) {
	tp, _ := recorder(t)
	ctx, span := tp.Tracer("test").Start(context.Background(), "s")
	defer span.End()
	sc := span.SpanContext()
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want bool
	}{
		{"span in context", func(l *slog.Logger) { l.InfoContext(ctx, "m") }, true},
		{"LogAttrs", func(l *slog.Logger) { l.LogAttrs(ctx, slog.LevelWarn, "m", slog.Int("n", 1)) }, true},
		{"after With", func(l *slog.Logger) { l.With("k", "v").InfoContext(ctx, "m") }, true},
		{"no context", func(l *slog.Logger) { l.Info("m") }, false},
		{"context without span", func(l *slog.Logger) { l.InfoContext(context.Background(), "m") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))))
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%q: %v", buf.String(), err)
			}
			tid, sid := line["trace_id"], line["span_id"]
			if tt.want && (tid != sc.TraceID().String() || sid != sc.SpanID().String()) {
				t.Errorf("trace_id %v, span_id %v; want %s, %s", tid, sid, sc.TraceID(), sc.SpanID())
			}
			if !tt.want && (tid != nil || sid != nil) {
				t.Errorf("trace_id %v, span_id %v; want neither", tid, sid)
			}
		})
	}
	t.Run("group", func(t *testing.T) {
		var buf bytes.Buffer
		slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))).WithGroup("g").InfoContext(ctx, "m")
		if !strings.Contains(buf.String(), sc.TraceID().String()) {
			t.Errorf("%s: no trace_id", buf.String())
		}
	})
}

// Health and metrics probes are not traced: a span per probe per pod is
// noise, and during a drain every /readyz would be an error span.
func TestMiddlewareSkipsProbes(t *testing.T) {
	tp, exp := recorder(t)
	e := echo.New()
	e.Use(tracing.Middleware(tp))
	for _, p := range []string{"/healthz", "/readyz", "/livez", "/metrics", "/items/:id"} {
		e.GET(p, func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	}
	for _, target := range []string{"/healthz", "/readyz", "/livez", "/metrics", "/items/1"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "GET /items/:id" {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("spans %v, want only GET /items/:id", names)
	}
}
