package tracing

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/internal/buildinfo"
	"github.com/smscode/smscode/kit"
)

// AttrErrorCode is the server span's attribute for the error_code of an
// answer that is not 2xx (a code of the spec's catalog).
const AttrErrorCode = attribute.Key("smscode.error_code")

// Middleware returns Echo middleware that records a server span per
// request, named "METHOD route" (the route template, such as "POST
// /api/v2/sdk/sms/send"; the method alone for a path that matches no
// route), as a child of the caller's W3C traceparent when there is one.
// Install it first, so that the span covers the other middleware and every
// later layer sees it in the request's context.
//
// Its attributes are bounded and hold nothing the client wrote freely:
// http.request.method (one of the standard methods, else "_OTHER"),
// http.route, http.response.status_code, url.scheme,
// network.protocol.version, error.type (the status, for 5xx, which also
// set the span's status to Error) and smscode.error_code. Never the path
// of an unmatched request, the query, a header value or the body.
func Middleware(tp trace.TracerProvider) echo.MiddlewareFunc {
	tracer := tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL),
		trace.WithInstrumentationVersion(buildinfo.Get().Version))
	prop := propagation.TraceContext{}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if kit.IsProbe(c.Path()) {
				return next(c) // health and metrics probes: not traced
			}
			req := c.Request()
			ctx := prop.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			method := knownMethod(req.Method)
			scheme := "http"
			if req.TLS != nil {
				scheme = "https"
			}
			ctx, span := tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(
					semconv.HTTPRequestMethodKey.String(method),
					semconv.URLScheme(scheme),
					semconv.NetworkProtocolVersion(protocolVersion(req)),
				))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))

			if err := next(c); err != nil {
				// Answer here (kit.AccessLog does, when it is below), so
				// that the span has the final status.
				c.Error(err)
			}
			status := c.Response().Status
			// Echo's route is a registered template (or empty), never the
			// request's path; a 404 names no route, as the access log.
			if route := c.Path(); route != "" && status != http.StatusNotFound {
				span.SetName(method + " " + route)
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if code := kit.ErrorCodeFromContext(c.Request().Context()); code != "" {
				span.SetAttributes(AttrErrorCode.String(string(code)))
			}
			if status >= 500 {
				span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
				span.SetStatus(codes.Error, "")
			}
			return nil
		}
	}
}

// knownMethod is m when it is one of HTTP's standard methods, else
// "_OTHER" (semantic conventions): a client can send any token as a
// method, and span names and attributes must stay bounded.
func knownMethod(m string) string {
	if kit.StandardMethod(m) {
		return m
	}
	return "_OTHER"
}

// protocolVersion is "1.0", "1.1", "2" or "3", from the parsed numbers,
// not the request line's text.
func protocolVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	case r.ProtoMajor == 1:
		return "1.1"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 3:
		return "3"
	}
	return "other"
}
