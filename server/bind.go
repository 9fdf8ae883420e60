package server

import (
	"net/http"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
)

// sendRoute is the send operation's route, as genserver registers it.
const sendRoute = "/api/v2/sdk/sms/send"

// sendSmsHeaders is how many header parameters sendSms binds: every field
// of gen.SendSmsParams. A spec that adds one makes the struct bigger,
// and fastSendSms then leaves the route to the generated binder (and
// TestBindSendSmsIsTheGenerated fails until this binder learns it).
const sendSmsHeaders = 7

// fastSendSms returns the handler of POST /api/v2/sdk/sms/send: the header
// parameters copied from the request as the generated
// ServerInterfaceWrapper.SendSms binds them, then si.SendSms. The
// generated binder goes through runtime.BindStyledParameterWithOptions,
// reflection and an allocation or two per header, for what is, for these
// plain string headers, a copy; the validator before it has already
// checked each header (present when required, one value, its schema). Any
// request that is not of that plain shape (a required header missing or
// empty, a header given twice) goes to the generated binder, which answers
// it as it always did. ok is false when SendSmsParams is not the struct
// this binder knows.
func fastSendSms(si genserver.ServerInterface, generated echo.HandlerFunc) (h echo.HandlerFunc, ok bool) {
	if reflect.TypeFor[gen.SendSmsParams]().NumField() != sendSmsHeaders {
		return nil, false
	}
	return func(c echo.Context) error {
		p, ok := bindSendSms(c.Request().Header)
		if !ok {
			return generated(c)
		}
		return si.SendSms(c, p)
	}, true
}

// bindSendSms binds the header parameters of a send, or reports that the
// generated binder must.
func bindSendSms(h http.Header) (p gen.SendSmsParams, ok bool) {
	var ok1, ok2, ok3, ok4, ok5, ok6, ok7 bool
	// The optional headers' copies, in one allocation instead of one each.
	opt := new([3]string)
	p.XOperatingSysVersion, ok1 = required(h, "X-Operating-Sys-Version")
	p.XDeviceFingerprint, ok2 = required(h, "X-Device-Fingerprint")
	p.XDeviceIp, ok3 = optional(h, "X-Device-Ip", &opt[0])
	p.XAgent, ok4 = required(h, "X-Agent")
	p.XL, ok5 = optional(h, "X-L", &opt[1])
	p.XClientId, ok6 = required(h, "X-Client-Id")
	p.XTenantId, ok7 = optional(h, "X-Tenant-Id", &opt[2])
	return p, ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7
}

// required is the one, non-empty value of the header key (canonical), as
// the generated binder takes a required string header.
func required(h http.Header, key string) (string, bool) {
	vs := h[key]
	if len(vs) != 1 || vs[0] == "" {
		return "", false
	}
	return vs[0], true
}

// optional is a pointer to the one value of the header key (canonical), nil
// when it is absent, as the generated binder takes an optional string
// header. The value is copied to *dst, as the generated binder copies it:
// the pointer is not an alias into the request's header.
func optional(h http.Header, key string, dst *string) (*string, bool) {
	vs, found := h[key]
	switch {
	case !found:
		return nil, true
	case len(vs) != 1:
		return nil, false
	}
	*dst = vs[0]
	return dst, true
}

// sendBodyBinder is the strict server with the send's body bound from the
// value the validator decoded, without the reflection of
// runtime.BindJSONValue, which the generated strict handler goes through:
// when that value is an object of the send's three string members (any
// of them may be missing), its members are copied. Anything else (another
// member, a value that is not a string, no validated value) goes to the
// generated strict handler, which binds it as it always did
// (TestBindSendSmsBodyIsBindJSONValue compares the two).
type sendBodyBinder struct {
	genserver.ServerInterface // the generated strict handler
	h                         genserver.StrictServerInterface
}

// SendSms implements genserver.ServerInterface as the generated strict
// handler does with no strict middleware and Echo's default binder (New's
// setup): the handler's answer is visited, its error returned.
func (b sendBodyBinder) SendSms(c echo.Context, p gen.SendSmsParams) error {
	body, ok := bindSendSmsBody(c.Request())
	if !ok {
		return b.ServerInterface.SendSms(c, p)
	}
	res, err := b.h.SendSms(c.Request().Context(), genserver.SendSmsRequestObject{Params: p, Body: &body})
	if err != nil {
		return err
	}
	if res == nil {
		return nil
	}
	return res.VisitSendSmsResponse(c.Response())
}

// bindSendSmsBody is the send's body as runtime.BindJSONValue binds the
// validated value, or false when that value is not of the plain shape.
func bindSendSmsBody(r *http.Request) (body gen.SendSmsRequest, ok bool) {
	// The validator's flat bodies say their members without the map of
	// them that ValidatedValue would make.
	if vb, ok := r.Body.(interface{ ValidatedMembers() ([]kit.Member, bool) }); ok {
		if ms, flat := vb.ValidatedMembers(); flat {
			for _, m := range ms {
				if !setSendSmsMember(&body, m.Name, m.Value) {
					return body, false
				}
			}
			return body, true
		}
	}
	vb, ok := r.Body.(interface{ ValidatedValue() any })
	if !ok {
		return body, false
	}
	obj, ok := vb.ValidatedValue().(map[string]any)
	if !ok {
		return body, false
	}
	for k, v := range obj {
		s, ok := v.(string)
		if !ok || !setSendSmsMember(&body, k, s) {
			return body, false
		}
	}
	return body, true
}

// setSendSmsMember sets body's member name to v, or reports that the body
// has no such member.
func setSendSmsMember(body *gen.SendSmsRequest, name, v string) bool {
	switch name {
	case "mobile":
		body.Mobile = v
	case "type":
		body.Type = gen.Scenario(v)
	case "captcha_token":
		body.CaptchaToken = v
	default:
		return false
	}
	return true
}
