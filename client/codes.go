package client

import "github.com/smscode/smscode/gen"

// Scenario is the sending scenario of a code (the body field type); a code
// sent for one scenario verifies only for the same scenario.
type Scenario = gen.Scenario

// The six scenarios, as OneAccess names them.
const (
	// ScenarioRegister is registration (REGISTER_SMS).
	ScenarioRegister = gen.ScenarioRegister
	// ScenarioLogin is login (LOGIN_SMS).
	ScenarioLogin = gen.ScenarioLogin
	// ScenarioForgetPwd is a forgotten password (FORGET_PWD_SMS).
	ScenarioForgetPwd = gen.ScenarioForgetPwd
	// ScenarioBindMobile is binding a mobile number (BIND_MOBILE_SMS).
	ScenarioBindMobile = gen.ScenarioBindMobile
	// ScenarioUpdateMobile is changing the mobile number (UPDATE_MOBILE_SMS).
	ScenarioUpdateMobile = gen.ScenarioUpdateMobile
	// ScenarioOtpRest is a second-factor (MFA) code (OTP_REST_SMS, spelled so
	// in OneAccess).
	ScenarioOtpRest = gen.ScenarioOtpRest
)

// ErrorCode is a stable, machine-readable error code such as "SMS.0001"
// (the error_code of an error answer). openapi.yaml lists each with its
// HTTP status and messages. The list grows: an answer may carry a code
// that is none of the constants below, and a caller handles it by the
// status (see Error.Temporary and IsRateLimited).
type ErrorCode = gen.ErrorCode

// Every error code of the API. The names are those of the spec's
// x-enum-varnames with "Code" in front; the four VERIFY codes, which the
// spec calls CodeWrong and so on, keep their name as it is rather than
// become CodeCodeWrong.
const (
	// CodeAppNotFound (APP.0001, 400): no application has this client id
	// (within the tenant, if one was given).
	CodeAppNotFound = gen.ErrorCodeAppNotFound
	// CodeAppIDRequired (APP.0002, 400): the client id is missing.
	CodeAppIDRequired = gen.ErrorCodeAppIDRequired
	// CodeAppDisabled (APP.0003, 400): the application is disabled.
	CodeAppDisabled = gen.ErrorCodeAppDisabled
	// CodeAppIDInvalid (APP.0004, 400): the client id is malformed.
	CodeAppIDInvalid = gen.ErrorCodeAppIDInvalid
	// CodeTenantIDInvalid (APP.0005, 400): the tenant id is malformed.
	CodeTenantIDInvalid = gen.ErrorCodeTenantIDInvalid

	// CodeOSVersionInvalid (HEADER.0001, 400): X-operating-sys-version is
	// missing or malformed.
	CodeOSVersionInvalid = gen.ErrorCodeOSVersionInvalid
	// CodeFingerprintInvalid (HEADER.0002, 400): X-device-fingerprint is
	// missing or malformed.
	CodeFingerprintInvalid = gen.ErrorCodeFingerprintInvalid
	// CodeAgentInvalid (HEADER.0003, 400): X-agent is missing or malformed.
	CodeAgentInvalid = gen.ErrorCodeAgentInvalid
	// CodeDeviceIPInvalid (HEADER.0004, 400): X-device-ip is not an IP address.
	CodeDeviceIPInvalid = gen.ErrorCodeDeviceIPInvalid
	// CodeLanguageInvalid (HEADER.0005, 400): X-L is not a language tag.
	CodeLanguageInvalid = gen.ErrorCodeLanguageInvalid
	// CodeHeadersTooLarge (HEADER.0006, 431): the request headers are too large.
	CodeHeadersTooLarge = gen.ErrorCodeHeadersTooLarge

	// CodeBodyMalformed (REQ.0001, 400): the body is not a JSON object.
	CodeBodyMalformed = gen.ErrorCodeBodyMalformed
	// CodeBodyTooLarge (REQ.0002, 413): the body is too large.
	CodeBodyTooLarge = gen.ErrorCodeBodyTooLarge
	// CodeUnsupportedMediaType (REQ.0003, 415): Content-Type is not JSON.
	CodeUnsupportedMediaType = gen.ErrorCodeUnsupportedMediaType
	// CodeUnknownField (REQ.0004, 400): the body has a field the API does
	// not define.
	CodeUnknownField = gen.ErrorCodeUnknownField
	// CodeNotFound (REQ.0005, 404): no such path; often a wrong base URL.
	CodeNotFound = gen.ErrorCodeNotFound
	// CodeMethodNotAllowed (REQ.0006, 405): the path does not take this method.
	CodeMethodNotAllowed = gen.ErrorCodeMethodNotAllowed

	// CodeMobileRequired (PARAM.0001, 400): mobile is missing.
	CodeMobileRequired = gen.ErrorCodeMobileRequired
	// CodeScenarioRequired (PARAM.0002, 400): the scenario is missing.
	CodeScenarioRequired = gen.ErrorCodeScenarioRequired
	// CodeVerifyCodeRequired (PARAM.0003, 400): the code to verify is missing.
	CodeVerifyCodeRequired = gen.ErrorCodeVerifyCodeRequired
	// CodeCoordinatesRequired (PARAM.0004, 400): the CAPTCHA answer's
	// point_json is missing or not a point (CAPTCHA endpoints only).
	CodeCoordinatesRequired = gen.ErrorCodeCoordinatesRequired
	// CodeCaptchaTokenRequired (PARAM.0005, 400): the captcha token is
	// missing or empty.
	CodeCaptchaTokenRequired = gen.ErrorCodeCaptchaTokenRequired

	// CodeCaptchaWrong (CAPTCHA.0002, 400): the captcha was not solved, or
	// not for this number.
	CodeCaptchaWrong = gen.ErrorCodeCaptchaWrong
	// CodeCaptchaExpired (CAPTCHA.0003, 400): the captcha token has expired.
	CodeCaptchaExpired = gen.ErrorCodeCaptchaExpired
	// CodeCaptchaInvalid (CAPTCHA.0004, 400): the captcha token is unknown,
	// malformed or already used.
	CodeCaptchaInvalid = gen.ErrorCodeCaptchaInvalid
	// CodeScenarioUnsupported (CAPTCHA.0005, 400): the scenario is not one of
	// the six, or the application does not allow it.
	CodeScenarioUnsupported = gen.ErrorCodeScenarioUnsupported
	// CodeCaptchaUnavailable (CAPTCHA.0006, 503): the captcha service could
	// not be reached; nothing was sent.
	CodeCaptchaUnavailable = gen.ErrorCodeCaptchaUnavailable
	// CodeCaptchaTooMany (CAPTCHA.0007, 429): the client IP address asked
	// for too many puzzles (CAPTCHA endpoints only).
	CodeCaptchaTooMany = gen.ErrorCodeCaptchaTooMany

	// CodeMobileInvalid (USER.0038, 400): not a valid mobile number.
	CodeMobileInvalid = gen.ErrorCodeMobileInvalid
	// CodeDestinationBlocked (USER.0039, 400): the application does not send
	// to the number's country or region.
	CodeDestinationBlocked = gen.ErrorCodeDestinationBlocked

	// CodeTooFrequent (SMS.0001, 429): a code was sent to this number for
	// this scenario too recently; see Error.RetryAfter.
	CodeTooFrequent = gen.ErrorCodeTooFrequent
	// CodeNumberDailyLimit (SMS.0002, 429): the number's daily limit is reached.
	CodeNumberDailyLimit = gen.ErrorCodeNumberDailyLimit
	// CodeDeviceLimit (SMS.0003, 429): the device asked for too many codes.
	CodeDeviceLimit = gen.ErrorCodeDeviceLimit
	// CodeIPLimit (SMS.0004, 429): the client IP address asked for too many codes.
	CodeIPLimit = gen.ErrorCodeIPLimit
	// CodeAppDailyQuota (SMS.0005, 429): the application's daily SMS quota
	// is used up.
	CodeAppDailyQuota = gen.ErrorCodeAppDailyQuota
	// CodePrefixBlocked (SMS.0006, 429): the number's prefix is blocked for a
	// while (SMS-pumping defence).
	CodePrefixBlocked = gen.ErrorCodePrefixBlocked
	// CodeProviderUnavailable (SMS.0007, 503): no SMS provider accepted the
	// message; no code was left valid.
	CodeProviderUnavailable = gen.ErrorCodeProviderUnavailable
	// CodeProviderRejected (SMS.0008, 400): the SMS provider refused the
	// message for good, such as for a number it cannot reach.
	CodeProviderRejected = gen.ErrorCodeProviderRejected

	// CodeWrong (VERIFY.0001, 400): the verification code is wrong; the
	// attempt was counted.
	CodeWrong = gen.ErrorCodeCodeWrong
	// CodeExpired (VERIFY.0002, 400): no code is pending for this number
	// and scenario: it expired, was used, or was never sent.
	CodeExpired = gen.ErrorCodeCodeExpired
	// CodeAttemptsExceeded (VERIFY.0003, 400): this client address or
	// device made too many wrong attempts at the code, which is dead for
	// it; send a new one.
	CodeAttemptsExceeded = gen.ErrorCodeCodeAttemptsExceeded
	// CodeMalformed (VERIFY.0004, 400): the verification code is not 4 to 10
	// digits.
	CodeMalformed = gen.ErrorCodeCodeMalformed
	// CodeVerifyIPLimit (VERIFY.0005, 429): too many failed verifications
	// from this client address; retry after Error.RetryAfter.
	CodeVerifyIPLimit = gen.ErrorCodeVerifyIPLimit
	// CodeVerifyDeviceLimit (VERIFY.0006, 429): too many failed
	// verifications from this device.
	CodeVerifyDeviceLimit = gen.ErrorCodeVerifyDeviceLimit
	// CodeVerifyNumberDailyLimit (VERIFY.0007, 429): too many wrong codes
	// for this number today.
	CodeVerifyNumberDailyLimit = gen.ErrorCodeVerifyNumberDailyLimit
	// CodeVerifyCallerNumberDailyLimit (VERIFY.0008, 429): this client
	// address or device tried too many wrong codes for this number today
	// (the application's max_attempts, across codes and scenarios).
	CodeVerifyCallerNumberDailyLimit = gen.ErrorCodeVerifyCallerNumberDailyLimit

	// CodeReceiptUnauthenticated (RECEIPT.0001, 401) and CodeReceiptMalformed
	// (RECEIPT.0002, 400) answer SMS gateways' delivery receipts, not an
	// application's calls; listed so that every code has its constant.
	CodeReceiptUnauthenticated = gen.ErrorCodeReceiptUnauthenticated
	CodeReceiptMalformed       = gen.ErrorCodeReceiptMalformed

	// CodeInternal (SYS.0001, 500): an unexpected server error; nothing was sent.
	CodeInternal = gen.ErrorCodeInternal
	// CodeStoreUnavailable (SYS.0002, 503): the server's store is
	// unavailable; nothing was sent.
	CodeStoreUnavailable = gen.ErrorCodeStoreUnavailable
	// CodeNotImplemented (SYS.0003, 501): the server (a backend team's,
	// built with the stub kit) does not offer this operation.
	CodeNotImplemented = gen.ErrorCodeNotImplemented
)
