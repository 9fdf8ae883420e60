package kit

import (
	"net/netip"
	"strings"

	"github.com/smscode/smscode/gen"
)

// Where a rule's parameter is read from.
const (
	inHeader = "header"
	inBody   = "body"
)

// rule maps the failures of one header or body field to the error codes
// that openapi.yaml documents for it.
type rule struct {
	in   string // inHeader or inBody
	name string // the header or JSON member name, as the spec spells it
	// missing is the code when the field is absent, empty when it is
	// present with the value "", invalid for every other failure.
	missing, empty, invalid gen.ErrorCode
	// check, when set, is a test beyond the schema: the value must pass it.
	check func(string) bool
}

// rules is the whole mapping from validation failures to error codes. Its
// order is the order of precedence when a request has several faults, so
// that the answer does not depend on the validator's map iteration:
// X-client-id first (OneAccess checks the application before anything
// else), then the other headers in the order the spec lists them, then the
// body as a whole, its members in schema order, and unknown members last
// (an unknown member is usually a misspelt known one, and "mobile is
// missing" says more than "unknown field").
var rules = []rule{
	{in: inHeader, name: "X-client-id", missing: gen.ErrorCodeAppIDRequired, empty: gen.ErrorCodeAppIDRequired, invalid: gen.ErrorCodeAppIDInvalid},
	{in: inHeader, name: "X-operating-sys-version", missing: gen.ErrorCodeOSVersionInvalid, empty: gen.ErrorCodeOSVersionInvalid, invalid: gen.ErrorCodeOSVersionInvalid},
	{in: inHeader, name: "X-device-fingerprint", missing: gen.ErrorCodeFingerprintInvalid, empty: gen.ErrorCodeFingerprintInvalid, invalid: gen.ErrorCodeFingerprintInvalid},
	{in: inHeader, name: "X-device-ip", missing: gen.ErrorCodeDeviceIPInvalid, empty: gen.ErrorCodeDeviceIPInvalid, invalid: gen.ErrorCodeDeviceIPInvalid, check: isIP},
	{in: inHeader, name: "X-agent", missing: gen.ErrorCodeAgentInvalid, empty: gen.ErrorCodeAgentInvalid, invalid: gen.ErrorCodeAgentInvalid},
	{in: inHeader, name: "X-L", missing: gen.ErrorCodeLanguageInvalid, empty: gen.ErrorCodeLanguageInvalid, invalid: gen.ErrorCodeLanguageInvalid, check: isLanguageList},
	{in: inHeader, name: "X-tenant-id", missing: gen.ErrorCodeTenantIDInvalid, empty: gen.ErrorCodeTenantIDInvalid, invalid: gen.ErrorCodeTenantIDInvalid},
	// The body as a whole: not JSON, not an object, trailing data, empty.
	{in: inBody, name: "", missing: gen.ErrorCodeBodyMalformed, empty: gen.ErrorCodeBodyMalformed, invalid: gen.ErrorCodeBodyMalformed},
	{in: inBody, name: "mobile", missing: gen.ErrorCodeMobileRequired, empty: gen.ErrorCodeMobileInvalid, invalid: gen.ErrorCodeMobileInvalid},
	{in: inBody, name: "type", missing: gen.ErrorCodeScenarioRequired, empty: gen.ErrorCodeScenarioUnsupported, invalid: gen.ErrorCodeScenarioUnsupported},
	{in: inBody, name: "captcha_token", missing: gen.ErrorCodeCaptchaTokenRequired, empty: gen.ErrorCodeCaptchaTokenRequired, invalid: gen.ErrorCodeCaptchaInvalid},
	{in: inBody, name: "point_json", missing: gen.ErrorCodeCoordinatesRequired, empty: gen.ErrorCodeCoordinatesRequired, invalid: gen.ErrorCodeCoordinatesRequired},
	{in: inBody, name: "token", missing: gen.ErrorCodeCaptchaTokenRequired, empty: gen.ErrorCodeCaptchaTokenRequired, invalid: gen.ErrorCodeCaptchaInvalid},
	{in: inBody, name: "sender", missing: gen.ErrorCodeMobileRequired, empty: gen.ErrorCodeMobileInvalid, invalid: gen.ErrorCodeMobileInvalid},
	{in: inBody, name: "verify_code", missing: gen.ErrorCodeVerifyCodeRequired, empty: gen.ErrorCodeCodeMalformed, invalid: gen.ErrorCodeCodeMalformed},
	// A member the schema does not define (additionalProperties: false).
	{in: inBody, name: unknownMember, missing: gen.ErrorCodeUnknownField, empty: gen.ErrorCodeUnknownField, invalid: gen.ErrorCodeUnknownField},
}

// unknownMember names the rule for members the schema does not define; it
// cannot clash with a JSON member name the spec uses.
const unknownMember = "*"

// Indexes into rules of the rules the validator refers to by themselves.
var (
	ruleBody    = ruleIndex(inBody, "")
	ruleUnknown = ruleIndex(inBody, unknownMember)
)

// ruleIndex returns the position of the rule for (in, name) in rules, or
// -1. Header names compare case-insensitively, as HTTP has them.
func ruleIndex(in, name string) int {
	for i, r := range rules {
		if r.in != in {
			continue
		}
		if r.name == name || (in == inHeader && strings.EqualFold(r.name, name)) {
			return i
		}
	}
	return -1
}

// isIP reports whether s is an IPv4 or IPv6 address: the schema's pattern
// only limits the characters, so "999.1.1.1" or ":::" would pass it.
func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// failure is one reason to refuse a request: the rule it falls under and
// which of the rule's codes applies. what names the schema keyword or check
// that failed, for the development log only.
type failure struct {
	rule int
	code gen.ErrorCode
	what string
}

// before reports whether f takes precedence over g; anything takes
// precedence over noFailure.
func (f failure) before(g failure) bool { return g.rule < 0 || f.rule < g.rule }

var noFailure = failure{rule: -1}
