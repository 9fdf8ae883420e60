package sender

import (
	"context"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/altcha"
)

// AltchaChallenge issues a proof-of-work challenge for the caller's
// application at its difficulty. Applications whose captcha kind is not
// altcha get 404 REQ.0005: they would never accept a solution. Issuing
// writes nothing to the store and costs one HMAC, so it takes no limit of
// its own; the work is spent, and limited, at the send.
func (s *Service) AltchaChallenge(_ context.Context, c Caller) (altcha.Challenge, error) {
	if s.d.Altcha == nil {
		return altcha.Challenge{}, apierr.New(gen.ErrorCodeNotFound)
	}
	app, err := s.d.Apps.Lookup(c.ClientID, c.TenantID)
	if err != nil {
		return altcha.Challenge{}, err
	}
	if app.Captcha.Kind != apps.CaptchaAltcha {
		return altcha.Challenge{}, apierr.New(gen.ErrorCodeNotFound)
	}
	return s.d.Altcha.Issue(app.Scope(), app.Captcha.MaxNumber)
}
