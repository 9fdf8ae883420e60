package kit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/jsonlog"
)

// HeaderRequestID is the header that carries the request id both ways.
const HeaderRequestID = "X-Request-Id"

// requestInfo is what the middleware learns about a request and later
// layers need: the handlers (for sender.Caller) and the access log. One
// pointer in the context, so that the request is copied once.
type requestInfo struct {
	id       string
	remoteIP string
	code     gen.ErrorCode // set by WriteError, read by the access log
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey{}).(*requestInfo)
	return info
}

// RequestIDFromContext returns the id of the request that ctx belongs to,
// as RequestID set it, or "" outside such a request.
func RequestIDFromContext(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// RemoteIPFromContext returns the client address of the request that ctx
// belongs to (Echo's RealIP, as its IPExtractor sees it), as RequestID
// recorded it, or "" outside such a request.
func RemoteIPFromContext(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.remoteIP
	}
	return ""
}

// ErrorCodeFromContext returns the error_code that the answer to ctx's
// request carries, once ErrorHandler (or WriteError) wrote it, or "" when
// the answer is not an error or ctx belongs to no request. Middleware that
// runs around the error handler reads it after the handler returns, from
// the Echo context's current request (c.Request().Context()).
func ErrorCodeFromContext(ctx context.Context) gen.ErrorCode {
	if info := infoFrom(ctx); info != nil {
		return info.code
	}
	return ""
}

// RequestID returns middleware that gives each request an id: the caller's
// X-Request-Id when it is 1 to 64 of [A-Za-z0-9._-] (so a gateway's id
// carries through), a new random one otherwise. The id is set on every
// answer, errors included, and is available to later layers through
// RequestIDFromContext. It also records the client address as Echo's
// IPExtractor sees it, for the handlers.
func RequestID() echo.MiddlewareFunc { return RequestContext(0) }

// RequestContext is RequestID, plus a deadline of timeout (when positive)
// on the request's context, in the same copy of the request.
func RequestContext(timeout time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			id := req.Header.Get(HeaderRequestID)
			if !validRequestID(id) {
				id = newRequestID()
			}
			ic := &infoContext{Context: req.Context(), info: requestInfo{id: id, remoteIP: c.RealIP()}}
			// Set, without the canonicalization (the name is canonical)
			// and the slice it would allocate: one in ic.
			ic.idValue[0] = id
			c.Response().Header()[HeaderRequestID] = ic.idValue[:1:1]
			if timeout > 0 {
				// The deadline, not yet its timer: see infoContext.
				ic.deadline = time.Now().Add(timeout)
				defer ic.end()
			}
			c.SetRequest(req.WithContext(ic))
			return next(c)
		}
	}
}

// validRequestID reports whether id matches ^[A-Za-z0-9._-]{1,64}$, the
// spec's XRequestId schema; ids that do not are replaced rather than
// echoed, so a caller cannot put arbitrary text into our logs.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 26 random base32 characters (130 bits).
func newRequestID() string { return rand.Text() }

// AccessLog returns middleware that writes one line per request to log:
// request id, method, route, status, error_code (for errors) and latency.
// It never logs bodies, query strings or header values, and for a path that
// matches no route it masks digit runs, so that a number put in the URL is
// not logged whole. It answers errors itself (through the Echo error
// handler) so that the line has the final status.
//
// The line is at info level, except for the probes (the routes /healthz,
// /readyz, /livez and /metrics: a load balancer's or Kubernetes' health
// checks and the metrics scrape, every few seconds each), which are at
// debug unless they answer 5xx (a failing readiness probe is worth
// seeing). It is logged with the request's context, so that a handler
// that reads the context (one adding trace ids) can.
func AccessLog(log *slog.Logger) echo.MiddlewareFunc {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			req := c.Request()
			ctx := req.Context()
			path, status := c.Path(), c.Response().Status
			level := slog.LevelInfo
			if probeRoutes[path] && status < 500 && status != http.StatusNotFound {
				level = slog.LevelDebug
			}
			if !log.Enabled(ctx, level) {
				return nil
			}
			if path == "" || status == http.StatusNotFound {
				path = maskPath(req.URL.Path)
			}
			info := infoFrom(ctx)
			var id string
			if info != nil {
				id = info.id
			}
			// Room for error_code too, so that the slice stays on the stack.
			var buf [6]slog.Attr
			attrs := append(buf[:0],
				slog.String("request_id", id),
				slog.String("method", req.Method),
				slog.String("path", path),
				slog.Int("status", status),
				slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			)
			if info != nil && info.code != "" {
				attrs = append(attrs, slog.String("error_code", string(info.code)))
			}
			jsonlog.LogAttrs(ctx, log, level, "request", attrs...)
			return nil
		}
	}
}

// probeRoutes are the routes whose access log lines are at debug level
// (see AccessLog), by their registered route: a path that matches no route
// is never a probe.
var probeRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/livez": true, "/metrics": true}

// StandardMethod reports whether m is one of HTTP's nine standard methods.
// Go's server accepts any token as a method, so whatever labels or names by
// method (metrics, span names) bounds it with this first.
func StandardMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}

// IsProbe reports whether route (a registered route, Echo's c.Path()) is a
// health or metrics probe: logged at debug by AccessLog, and not traced by
// the server's tracing middleware (a span per probe per pod is noise).
func IsProbe(route string) bool { return probeRoutes[route] }

// maskPath replaces each run of 4 or more digits with "****" and cuts the
// path to 128 bytes: unknown paths are logged for debugging, but a phone
// number or code in them must not be.
func maskPath(p string) string {
	if len(p) > 128 {
		p = p[:128]
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		j := i
		for j < len(p) && '0' <= p[j] && p[j] <= '9' {
			j++
		}
		switch {
		case j-i >= 4:
			b.WriteString("****")
			i = j
		case j > i:
			b.WriteString(p[i:j])
			i = j
		default:
			b.WriteByte(p[i])
			i++
		}
	}
	return b.String()
}

// errPanic is the cause of the SYS.0001 that a recovered panic becomes.
var errPanic = errors.New("kit: handler panicked")

// Recover returns middleware that turns a panic below it into a 500
// SYS.0001 answer. The panic value and stack go to log, never to the
// caller. http.ErrAbortHandler is re-raised, as net/http intends.
func Recover(log *slog.Logger) echo.MiddlewareFunc {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if r == http.ErrAbortHandler {
					panic(r)
				}
				ctx := c.Request().Context()
				log.LogAttrs(ctx, slog.LevelError, "panic",
					slog.String("request_id", RequestIDFromContext(ctx)),
					slog.String("panic", fmt.Sprint(r)),
					slog.String("stack", string(debug.Stack())))
				err = apierr.Wrap(gen.ErrorCodeInternal, errPanic)
			}()
			return next(c)
		}
	}
}

// HeaderLimit returns middleware that refuses, with 431 HEADER.0006, a
// request whose request line and headers exceed max bytes, counted as they
// are sent. The http.Server must allow more than max (HTTPServer does), or
// Go answers first with a plain-text 431.
func HeaderLimit(max int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if headerSize(c.Request()) > max {
				return apierr.New(gen.ErrorCodeHeadersTooLarge)
			}
			return next(c)
		}
	}
}

// headerSize approximates the size of the request line and headers on the
// wire: "METHOD URI PROTO\r\n", "Host: ...\r\n" (which Go moves out of
// Header) and "Name: value\r\n" for each value.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	n += len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// BodyLimit returns middleware that refuses, with 413 REQ.0002, a request
// body larger than max bytes: at once when Content-Length says so, and
// otherwise when reading passes max (chunked bodies).
func BodyLimit(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > max {
				return apierr.New(gen.ErrorCodeBodyTooLarge)
			}
			if req.Body != nil && req.Body != http.NoBody {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, max)
			}
			return next(c)
		}
	}
}
