package kit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
)

// ErrorCounter counts error answers by error_code (smscode's
// *metrics.Metrics does, into a Prometheus counter). The code is always one
// of the catalog's, so it is a bounded label.
type ErrorCounter interface {
	Error(code string)
}

// ErrorHandler returns the Echo HTTPErrorHandler that answers every error
// with the spec's Error body (see WriteError), counts it with m.Error by
// error_code, and logs the cause of every 5xx answer (with the request id,
// so that a caller's report can be matched) without showing it to the
// caller. log and m may be nil.
func ErrorHandler(log *slog.Logger, m ErrorCounter) echo.HTTPErrorHandler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = noCounter{}
	}
	return func(err error, c echo.Context) {
		e := toAPIError(err)
		ctx := c.Request().Context()
		if e.Status() >= http.StatusInternalServerError {
			log.LogAttrs(ctx, slog.LevelError, "request failed",
				slog.String("request_id", RequestIDFromContext(ctx)),
				slog.String("error_code", string(e.Code)),
				slog.String("error", err.Error()))
		}
		if c.Response().Committed {
			// Too late for an error body: the handler has started its answer.
			log.LogAttrs(ctx, slog.LevelWarn, "error after the response was committed",
				slog.String("request_id", RequestIDFromContext(ctx)),
				slog.String("error_code", string(e.Code)))
			return
		}
		m.Error(string(e.Code))
		if werr := WriteError(c, e); werr != nil {
			log.LogAttrs(ctx, slog.LevelDebug, "writing the error answer failed",
				slog.String("request_id", RequestIDFromContext(ctx)),
				slog.String("error", werr.Error()))
		}
	}
}

type noCounter struct{}

func (noCounter) Error(string) {}

// WriteError answers the request with err as the spec's Error body:
// {"error_code", "error_msg"}, with error_msg from the catalog in the
// language of the request's X-L header, the code's HTTP status, and
// Retry-After in whole seconds when the error has a RetryAfter. err may be
// an *apierr.Error (also wrapped), an *echo.HTTPError (404, 405, 413, 415
// and 431 become their documented codes) or anything else, which becomes
// 500 SYS.0001: the cause never reaches the body. WriteError does not log
// or count; ErrorHandler does both and then calls it.
func WriteError(c echo.Context, err error) error {
	e := toAPIError(err)
	if info := infoFrom(c.Request().Context()); info != nil {
		info.code = e.Code
	}
	h := c.Response().Header()
	if s := e.RetryAfterSeconds(); s > 0 {
		h.Set("Retry-After", strconv.Itoa(s))
	}
	// An error answer is about this request only.
	h.Set("Cache-Control", "no-store")
	body := gen.Error{ErrorCode: e.Code, ErrorMsg: apierr.Message(e.Code, RequestLang(c.Request().Header.Get("X-L")))}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(e.Status())
	}
	return c.JSON(e.Status(), body)
}

// toAPIError maps any error a handler or middleware returns to the
// documented error it is answered with.
func toAPIError(err error) *apierr.Error {
	if e, ok := errors.AsType[*apierr.Error](err); ok {
		return e
	}
	// A body over the limit read by something other than the validator
	// (Echo's binder wraps it in a 400).
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return apierr.Wrap(gen.ErrorCodeBodyTooLarge, err)
	}
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		if code, ok := httpErrorCodes[he.Code]; ok {
			return apierr.Wrap(code, err)
		}
	}
	// The request's deadline (RequestTimeout) passed while a dependency was
	// slow: the service is what is unavailable, not the caller at fault.
	if errors.Is(err, context.DeadlineExceeded) {
		return apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
	}
	return apierr.Wrap(gen.ErrorCodeInternal, err)
}

// httpErrorCodes maps the statuses of Echo's own errors to error codes.
var httpErrorCodes = map[int]gen.ErrorCode{
	// Echo's binder and the generated wrapper answer 400 for a body or a
	// header they cannot read; the validator runs first and should catch
	// these, but a bad request must never become a 5xx.
	http.StatusBadRequest:                  gen.ErrorCodeBodyMalformed,
	http.StatusNotFound:                    gen.ErrorCodeNotFound,
	http.StatusMethodNotAllowed:            gen.ErrorCodeMethodNotAllowed,
	http.StatusRequestEntityTooLarge:       gen.ErrorCodeBodyTooLarge,
	http.StatusUnsupportedMediaType:        gen.ErrorCodeUnsupportedMediaType,
	http.StatusRequestHeaderFieldsTooLarge: gen.ErrorCodeHeadersTooLarge,
}
