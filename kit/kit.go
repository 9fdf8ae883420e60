package kit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/server/apierr"
)

// Config is what NewEcho needs; every field may be left zero.
type Config struct {
	// Log receives the access log, the refused requests (at Debug) and the
	// causes of 5xx answers. Nil: discarded.
	Log *slog.Logger
	// Errors counts error answers by code. Nil: not counted.
	Errors ErrorCounter
	// BodyLimit is the largest request body, in bytes (413 REQ.0002 above).
	// Default 8 KiB, as smscode's server.
	BodyLimit int64
	// MaxHeaderBytes is the largest request line and headers, in bytes
	// (431 HEADER.0006 above). Default 16 KiB. Give the http.Server at
	// least twice as much, so that this answers rather than Go's plain 431.
	MaxHeaderBytes int
	// RequestTimeout is the deadline on each request's context. Default 10 s.
	RequestTimeout time.Duration
}

// NewEcho returns an Echo instance that serves api with the kit's
// validator, error handler and middleware (in the order the package comment
// gives), on the embedded spec's routes. Echo's IPExtractor is the
// connection's address; set another on the result behind a proxy.
func NewEcho(api genserver.StrictServerInterface, cfg Config) (*echo.Echo, error) {
	if api == nil {
		return nil, errors.New("kit: a StrictServerInterface is required")
	}
	if cfg.BodyLimit < 0 || cfg.MaxHeaderBytes < 0 || cfg.RequestTimeout < 0 {
		return nil, errors.New("kit: negative limit in Config")
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 8 << 10
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = 16 << 10
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	spec, err := genserver.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("kit: loading the embedded spec: %w", err)
	}
	validate, err := NewLoggingValidator(spec, cfg.Log, slog.LevelDebug)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = ErrorHandler(cfg.Log, cfg.Errors)
	e.Use(
		RequestContext(cfg.RequestTimeout),
		AccessLog(cfg.Log),
		Recover(cfg.Log),
		HeaderLimit(cfg.MaxHeaderBytes),
		BodyLimit(cfg.BodyLimit),
		validate,
	)
	genserver.RegisterHandlers(e, genserver.NewStrictHandler(api, nil))
	return e, nil
}

// ErrNotImplemented is what Unimplemented's methods return: 501 SYS.0003
// with the Error body.
var ErrNotImplemented = apierr.New(gen.ErrorCodeNotImplemented)

// Unimplemented answers every operation of the spec with 501 SYS.0003 and
// the Error body. Embed it in a team's type, so that the type satisfies
// genserver.StrictServerInterface while implementing only the operations
// it offers (gRPC's Unimplemented convention); a new operation in the spec
// then answers 501 on the team's server instead of breaking its build.
type Unimplemented struct{}

var _ genserver.StrictServerInterface = Unimplemented{}

// SendSms answers 501 SYS.0003.
func (Unimplemented) SendSms(context.Context, genserver.SendSmsRequestObject) (genserver.SendSmsResponseObject, error) {
	return nil, ErrNotImplemented
}

// VerifySms answers 501 SYS.0003.
func (Unimplemented) VerifySms(context.Context, genserver.VerifySmsRequestObject) (genserver.VerifySmsResponseObject, error) {
	return nil, ErrNotImplemented
}

// GetCaptcha answers 501 SYS.0003.
func (Unimplemented) GetCaptcha(context.Context, genserver.GetCaptchaRequestObject) (genserver.GetCaptchaResponseObject, error) {
	return nil, ErrNotImplemented
}

// VerifyCaptcha answers 501 SYS.0003.
func (Unimplemented) VerifyCaptcha(context.Context, genserver.VerifyCaptchaRequestObject) (genserver.VerifyCaptchaResponseObject, error) {
	return nil, ErrNotImplemented
}

// GetAltchaChallenge answers 501 SYS.0003.
func (Unimplemented) GetAltchaChallenge(context.Context, genserver.GetAltchaChallengeRequestObject) (genserver.GetAltchaChallengeResponseObject, error) {
	return nil, ErrNotImplemented
}

// GetCountryCodes answers 501 SYS.0003.
func (Unimplemented) GetCountryCodes(context.Context, genserver.GetCountryCodesRequestObject) (genserver.GetCountryCodesResponseObject, error) {
	return nil, ErrNotImplemented
}
