package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/sender"
)

// Service is what the HTTP layer hands valid requests to: the send
// pipeline. Its errors are *apierr.Error values (possibly wrapped); any
// other error is answered 500 SYS.0001, or 503 SYS.0002 when it is the
// request's deadline passing.
type Service interface {
	// Send sends a code, or says with an *apierr.Error why not.
	Send(ctx context.Context, req sender.SendRequest) (sender.SendResult, error)
	// Verify checks and consumes a code, or says with an *apierr.Error why
	// it does not match.
	Verify(ctx context.Context, req sender.VerifyRequest) error
	// Puzzle draws a slider CAPTCHA puzzle.
	Puzzle(ctx context.Context, c sender.Caller) (slider.Puzzle, error)
	// CheckCaptcha checks a slider answer and returns the captcha_token.
	CheckCaptcha(ctx context.Context, req sender.CaptchaCheck) (string, error)
	// AltchaChallenge issues an ALTCHA proof-of-work challenge.
	AltchaChallenge(ctx context.Context, c sender.Caller) (altcha.Challenge, error)
	// CountryCodes lists the calling codes the application sends to.
	CountryCodes(ctx context.Context, c sender.Caller) (sender.CountryCodes, error)
	// Ready reports whether the dependencies (the store) are reachable;
	// /readyz answers 503 while it fails.
	Ready(ctx context.Context) error
}

// handlers implements the generated strict server on top of a Service. It
// only runs for requests that passed the validator, so it does no checking
// of its own beyond what a nil pointer would need.
type handlers struct {
	svc Service
}

var _ genserver.StrictServerInterface = (*handlers)(nil)

// SendSms implements genserver.StrictServerInterface.
func (h *handlers) SendSms(ctx context.Context, req genserver.SendSmsRequestObject) (genserver.SendSmsResponseObject, error) {
	if req.Body == nil {
		return nil, apierr.New(gen.ErrorCodeBodyMalformed)
	}
	p := req.Params
	caller := newCaller(ctx, p.XClientId, p.XTenantId, p.XL, p.XOperatingSysVersion, p.XDeviceFingerprint, p.XAgent, p.XDeviceIp)
	res, err := h.svc.Send(ctx, sender.SendRequest{
		Caller:       caller,
		Mobile:       req.Body.Mobile,
		Scenario:     req.Body.Type,
		CaptchaToken: req.Body.CaptchaToken,
	})
	if err != nil {
		return nil, err
	}
	return sendOK{
		resendAfter: seconds(res.ResendAfter, 0),
		expiresIn:   seconds(res.ExpiresIn, 1),
		requestID:   caller.RequestID,
	}, nil
}

// sendOK is the 200 answer to a send. It writes what
// genserver.SendSms200JSONResponse writes, byte for byte
// (TestSendOKIsTheGeneratedAnswer checks it), without what that costs per
// send: a buffer and a JSON encoder for a body that is always the same, a
// pointer per header value and fmt.Sprint for each.
type sendOK struct {
	resendAfter, expiresIn int32
	requestID              string
}

// sendOKBody is the body of every accepted send, as the generated
// response encodes it (json.Encoder: the value, then a newline).
var sendOKBody = func() []byte {
	b, err := json.Marshal(gen.SendSmsResultOK)
	if err != nil {
		panic("server: encoding the send result: " + err.Error())
	}
	return append(b, '\n')
}()

// VisitSendSmsResponse implements genserver.SendSmsResponseObject. The
// header names are in canonical form, so they are set without
// http.Header.Set's canonicalization.
func (r sendOK) VisitSendSmsResponse(w http.ResponseWriter) error {
	// The four values in one array, each header a one-value slice of it
	// (capacity one: an Add to one copies rather than overwrite the next).
	v := &[4]string{echo.MIMEApplicationJSON, secondsText(r.expiresIn), r.requestID, secondsText(r.resendAfter)}
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["X-Code-Expires-In"] = v[1:2:2]
	h["X-Request-Id"] = v[2:3:3]
	h["X-Resend-After"] = v[3:4:4]
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(sendOKBody)
	return err
}

// commonSeconds are the decimal texts of the cooldowns and lifetimes most
// often configured, so that their headers cost no allocation.
var commonSeconds = func() map[int32]string {
	m := make(map[int32]string)
	for _, s := range []int32{0, 30, 60, 90, 120, 180, 300, 600, 900, 1800, 3600} {
		m[s] = strconv.Itoa(int(s))
	}
	return m
}()

// secondsText is strconv.Itoa(s).
func secondsText(s int32) string {
	if t, ok := commonSeconds[s]; ok {
		return t
	}
	return strconv.Itoa(int(s))
}

// VerifySms implements genserver.StrictServerInterface.
func (h *handlers) VerifySms(ctx context.Context, req genserver.VerifySmsRequestObject) (genserver.VerifySmsResponseObject, error) {
	if req.Body == nil {
		return nil, apierr.New(gen.ErrorCodeBodyMalformed)
	}
	p := req.Params
	caller := newCaller(ctx, p.XClientId, p.XTenantId, p.XL, p.XOperatingSysVersion, p.XDeviceFingerprint, p.XAgent, p.XDeviceIp)
	err := h.svc.Verify(ctx, sender.VerifyRequest{
		Caller:   caller,
		Mobile:   req.Body.Mobile,
		Scenario: req.Body.Type,
		Code:     req.Body.VerifyCode,
	})
	if err != nil {
		return nil, err
	}
	return genserver.VerifySms200JSONResponse{
		Body:    gen.VerifySmsResult{Verified: true},
		Headers: genserver.VerifySms200ResponseHeaders{XRequestId: &caller.RequestID},
	}, nil
}

// GetCaptcha implements genserver.StrictServerInterface.
func (h *handlers) GetCaptcha(ctx context.Context, req genserver.GetCaptchaRequestObject) (genserver.GetCaptchaResponseObject, error) {
	p := req.Params
	caller := newCaller(ctx, p.XClientId, p.XTenantId, p.XL, p.XOperatingSysVersion, p.XDeviceFingerprint, p.XAgent, p.XDeviceIp)
	pz, err := h.svc.Puzzle(ctx, caller)
	if err != nil {
		return nil, err
	}
	return genserver.GetCaptcha200JSONResponse{
		Body: gen.CaptchaPuzzle{
			Token: pz.Token, OriginalImageBase64: pz.Background, JigsawImageBase64: pz.Piece,
			Y: int32(pz.Y), Width: int32(pz.Width), Height: int32(pz.Height),
		},
		Headers: genserver.GetCaptcha200ResponseHeaders{XRequestId: &caller.RequestID},
	}, nil
}

// VerifyCaptcha implements genserver.StrictServerInterface.
func (h *handlers) VerifyCaptcha(ctx context.Context, req genserver.VerifyCaptchaRequestObject) (genserver.VerifyCaptchaResponseObject, error) {
	if req.Body == nil {
		return nil, apierr.New(gen.ErrorCodeBodyMalformed)
	}
	p := req.Params
	caller := newCaller(ctx, p.XClientId, p.XTenantId, p.XL, p.XOperatingSysVersion, p.XDeviceFingerprint, p.XAgent, p.XDeviceIp)
	token, err := h.svc.CheckCaptcha(ctx, sender.CaptchaCheck{
		Caller: caller, Token: req.Body.Token, PointJSON: req.Body.PointJson, Sender: req.Body.Sender,
	})
	if err != nil {
		return nil, err
	}
	return genserver.VerifyCaptcha200JSONResponse{
		Body:    gen.CaptchaVerifyResult{CaptchaToken: token},
		Headers: genserver.VerifyCaptcha200ResponseHeaders{XRequestId: &caller.RequestID},
	}, nil
}

// GetAltchaChallenge implements genserver.StrictServerInterface.
func (h *handlers) GetAltchaChallenge(ctx context.Context, req genserver.GetAltchaChallengeRequestObject) (genserver.GetAltchaChallengeResponseObject, error) {
	p := req.Params
	caller := newCaller(ctx, p.XClientId, p.XTenantId, p.XL, p.XOperatingSysVersion, p.XDeviceFingerprint, p.XAgent, p.XDeviceIp)
	c, err := h.svc.AltchaChallenge(ctx, caller)
	if err != nil {
		return nil, err
	}
	noStore := "no-store"
	return genserver.GetAltchaChallenge200JSONResponse{
		Body: gen.AltchaChallenge{
			Algorithm: gen.AltchaChallengeAlgorithm(c.Algorithm), Challenge: c.Challenge,
			Maxnumber: c.MaxNumber, Salt: c.Salt, Signature: c.Signature,
		},
		Headers: genserver.GetAltchaChallenge200ResponseHeaders{CacheControl: &noStore, XRequestId: &caller.RequestID},
	}, nil
}

// GetCountryCodes implements genserver.StrictServerInterface.
func (h *handlers) GetCountryCodes(ctx context.Context, req genserver.GetCountryCodesRequestObject) (genserver.GetCountryCodesResponseObject, error) {
	p := req.Params
	caller := newCaller(ctx, p.XClientId, p.XTenantId, p.XL, p.XOperatingSysVersion, p.XDeviceFingerprint, p.XAgent, p.XDeviceIp)
	cc, err := h.svc.CountryCodes(ctx, caller)
	if err != nil {
		return nil, err
	}
	body := gen.CountryCodes{Preferred: cc.Preferred, CountryCodes: make([]gen.CountryCode, len(cc.Codes))}
	for i, c := range cc.Codes {
		body.CountryCodes[i] = gen.CountryCode{CallingCode: c.Code, Region: c.Region}
	}
	return genserver.GetCountryCodes200JSONResponse{
		Body:    body,
		Headers: genserver.GetCountryCodes200ResponseHeaders{XRequestId: &caller.RequestID},
	}, nil
}

// newCaller builds the sender.Caller from the header parameters and what
// the middleware recorded: the request id and the client address as the
// server trusts it (never X-device-ip, which the client writes).
func newCaller(ctx context.Context, clientID string, tenantID, lang *string, osVersion, fingerprint, agent string, deviceIP *string) sender.Caller {
	c := sender.Caller{
		ClientID:    clientID,
		TenantID:    deref(tenantID),
		Lang:        kit.RequestLang(deref(lang)),
		OSVersion:   osVersion,
		Fingerprint: fingerprint,
		Agent:       agent,
		ReportedIP:  deref(deviceIP),
	}
	c.RemoteIP = kit.RemoteIPFromContext(ctx)
	c.RequestID = kit.RequestIDFromContext(ctx)
	return c
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// maxHeaderSeconds is the largest value the spec allows in the
// X-Resend-After and X-Code-Expires-In headers (one day).
const maxHeaderSeconds = 86400

// seconds is d in whole seconds, rounded up (a client that waits that long
// is never early), kept within [min, maxHeaderSeconds] as the spec's
// header schemas require.
func seconds(d time.Duration, min int32) int32 {
	s := (d + time.Second - 1) / time.Second
	switch {
	case s < time.Duration(min):
		return min
	case s > maxHeaderSeconds:
		return maxHeaderSeconds
	}
	return int32(s)
}
