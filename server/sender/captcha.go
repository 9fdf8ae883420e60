package sender

import (
	"context"
	"strings"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/metrics"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/store"
)

// PuzzlesPerMinute is how many slider puzzles one client IP (an IPv6
// client: its /64, see clientIP) may ask for
// per minute and application: drawing one costs a few milliseconds of CPU,
// so an unbounded stream would be a cheap way to load the server.
const PuzzlesPerMinute = 30

// CaptchaCheck is a slider answer (OneAccess's captcha verify).
type CaptchaCheck struct {
	Caller
	Token     string // the puzzle's token
	PointJSON string // where the piece was let go: {"x":237.0,"y":5.0}
	Sender    string // the mobile number the captcha_token will be sent with
}

// CountryCodes is an application's answer to the country-codes API.
type CountryCodes struct {
	Preferred string
	Codes     []phone.CallingCode
}

// Puzzle draws a slider puzzle for the caller's application.
func (s *Service) Puzzle(ctx context.Context, c Caller) (slider.Puzzle, error) {
	if s.d.Slider == nil {
		return slider.Puzzle{}, apierr.New(gen.ErrorCodeNotFound)
	}
	app, err := s.d.Apps.Lookup(c.ClientID, c.TenantID)
	if err != nil {
		return slider.Puzzle{}, err
	}
	tag := s.info(app).tag
	if ip := clientIP(c.RemoteIP); ip != "" {
		res, err := s.d.Store.Reserve(ctx, store.SendRequest{Limits: []store.Limit{
			{Key: entityKey(tag, entityIP, ip, ":pz", ""), Max: PuzzlesPerMinute, Window: time.Minute},
		}})
		if err != nil {
			return slider.Puzzle{}, apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
		}
		if !res.Allowed {
			s.d.Metrics.Refusal("captcha_ip")
			return slider.Puzzle{}, apierr.Retry(gen.ErrorCodeCaptchaTooMany, res.RetryAfter)
		}
	}
	return s.d.Slider.Issue(ctx, app.Scope())
}

// CheckCaptcha checks a slider answer and returns the captcha_token that a
// send to the (normalised) sender number accepts once.
func (s *Service) CheckCaptcha(ctx context.Context, req CaptchaCheck) (string, error) {
	if s.d.Slider == nil {
		return "", apierr.New(gen.ErrorCodeNotFound)
	}
	app, err := s.d.Apps.Lookup(req.ClientID, req.TenantID)
	if err != nil {
		return "", err
	}
	num, err := app.Phone.Parse(req.Sender)
	if err != nil {
		return "", err
	}
	// Bound to the number's keyed id, not the number, so that the puzzle
	// record in the store holds no number; Send checks the same id.
	token, err := s.d.Slider.Check(ctx, app.Scope(), req.Token, req.PointJSON, s.keyIDs(num).binding())
	s.d.Metrics.CaptchaCheck(apps.CaptchaSlider, metrics.CaptchaStepAnswer, captchaOutcome(err))
	return token, err
}

// countCaptcha counts the check of a send's captcha_token under the
// application's captcha kind (configuration, so a bounded label).
func (s *Service) countCaptcha(app *apps.App, step string, err error) {
	kind := strings.ToLower(app.Captcha.Kind)
	if kind == apps.CaptchaDefault {
		kind = "default"
	}
	s.d.Metrics.CaptchaCheck(kind, step, captchaOutcome(err))
}

// captchaOutcome is a check's outcome label: passed, failed (a 4xx
// refusal) or error (the check could not be made: 5xx).
func captchaOutcome(err error) string {
	switch {
	case err == nil:
		return metrics.CaptchaPassed
	case apierr.From(err).Status() >= 500:
		return metrics.CaptchaCheckFailed
	}
	return metrics.CaptchaFailed
}

// CountryCodes lists the calling codes the caller's application sends to.
func (s *Service) CountryCodes(_ context.Context, c Caller) (CountryCodes, error) {
	app, err := s.d.Apps.Lookup(c.ClientID, c.TenantID)
	if err != nil {
		return CountryCodes{}, err
	}
	return CountryCodes{Preferred: phone.CallingCodeOf(app.Preferred()), Codes: app.Phone.CallingCodes()}, nil
}
