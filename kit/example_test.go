package kit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
	"github.com/smscode/smscode/server/apierr"
)

// teamAPI is a team's own implementation of the spec: the "server stub"
// use. It only ever sees requests that passed the validator.
type teamAPI struct{ kit.Unimplemented }

func (teamAPI) SendSms(ctx context.Context, req genserver.SendSmsRequestObject) (genserver.SendSmsResponseObject, error) {
	if req.Body.Type == gen.ScenarioOtpRest {
		// Errors are *apierr.Error values; the error handler renders them.
		return nil, apierr.New(gen.ErrorCodeScenarioUnsupported)
	}
	return genserver.SendSms200JSONResponse{Body: gen.SendSmsResultOK}, nil
}

func (teamAPI) VerifySms(ctx context.Context, req genserver.VerifySmsRequestObject) (genserver.VerifySmsResponseObject, error) {
	return genserver.VerifySms200JSONResponse{Body: gen.VerifySmsResult{Verified: true}}, nil
}

// A team that builds its own Echo mounts its genserver.StrictServerInterface
// with this package's validator, error handler and middleware (NewEcho does
// the same in one call), and gets the same checks and error answers as
// smscode's server. The operations it does not implement answer 501.
func Example() {
	spec, err := genserver.GetSpec()
	if err != nil {
		panic(err)
	}
	validate, err := kit.NewValidator(spec)
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = kit.ErrorHandler(nil, nil) // a *slog.Logger and an ErrorCounter in real use
	e.Use(kit.RequestID(), kit.Recover(nil), kit.HeaderLimit(16<<10), kit.BodyLimit(8<<10), validate)
	genserver.RegisterHandlers(e, genserver.NewStrictHandler(teamAPI{}, nil))

	do := func(method, path, lang, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json;charset=utf8")
		req.Header.Set("X-operating-sys-version", "Android 10")
		req.Header.Set("X-device-fingerprint", "156aysdna213sac")
		req.Header.Set("X-agent", "Mozilla/5.0")
		req.Header.Set("X-client-id", "DRrYIqauawN0I8myTMoDTPys6ezGZxnm")
		req.Header.Set("X-L", lang)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	post := func(lang, body string) { do(http.MethodPost, "/api/v2/sdk/sms/send", lang, body) }
	post("en", `{"mobile":"12345678901","type":"BIND_MOBILE_SMS","captcha_token":"t"}`)
	post("en", `{"mobile":"123","type":"BIND_MOBILE_SMS","captcha_token":"t"}`)
	post("zh", `{"mobile":"12345678901","type":"BIND_MOBILE_SMS"}`)
	post("en", `{"mobile":"12345678901","type":"OTP_REST_SMS","captcha_token":"t"}`)
	do(http.MethodGet, "/api/v2/sdk/country-codes", "en", "") // not implemented by teamAPI
	// Output:
	// 200 "OK"
	// 400 {"error_code":"USER.0038","error_msg":"Invalid mobile number."}
	// 400 {"error_code":"PARAM.0005","error_msg":"令牌不能为空。"}
	// 400 {"error_code":"CAPTCHA.0005","error_msg":"Unsupported scenario."}
	// 501 {"error_code":"SYS.0003","error_msg":"This operation is not implemented by this server."}
}
