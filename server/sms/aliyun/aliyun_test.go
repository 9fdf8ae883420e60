package aliyun_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/aliyun"
	"github.com/smscode/smscode/server/sms/internal/gatewaytest"
	"github.com/smscode/smscode/server/sms/smstest"
)

const (
	keyID     = "LTAI5tTestAccessKeyId"
	keySecret = "TestAccessKeySecret0123456789ab"
)

func config(endpoint string) aliyun.Config {
	return aliyun.Config{
		Endpoint:        endpoint,
		AccessKeyID:     keyID,
		AccessKeySecret: keySecret,
		SignName:        "阿里云短信测试",
		TemplateCode:    "SMS_154950909",
		TemplateParams:  map[string]string{"code": aliyun.ParamCode, "min": aliyun.ParamMinutes},
	}
}

func newFake(g *smstest.Gateway) http.Handler {
	return &fake{g: g, keyID: keyID, keySecret: keySecret, signName: "阿里云短信测试",
		templateCode: "SMS_154950909", codeVar: "code", vars: []string{"code", "min"}}
}

// newProvider returns a gatewaytest.NewFunc for the configuration cfg
// makes, with opts.
func newProvider(cfg func(endpoint string) aliyun.Config, opts ...aliyun.Option) gatewaytest.NewFunc {
	return func(srv *httptest.Server, log *slog.Logger) (sms.Provider, error) {
		return aliyun.New(cfg(srv.URL), append([]aliyun.Option{aliyun.WithHTTPClient(srv.Client()), aliyun.WithLogger(log)}, opts...)...)
	}
}

func TestConformance(t *testing.T) {
	gatewaytest.Conformance(t, newFake, newProvider(config), keySecret)
}

// TestSignatureDocumentedExamples checks Signature against the two
// DescribeRegions examples of the signature documentation (AccessKey
// secret "testsecret"; the older page spells the parameter TimeStamp).
func TestSignatureDocumentedExamples(t *testing.T) {
	base := url.Values{
		"Format": {"XML"}, "AccessKeyId": {"testid"}, "Action": {"DescribeRegions"},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"Version": {"2014-05-26"}, "SignatureVersion": {"1.0"},
	}
	tests := []struct{ tsName, want string }{
		{"Timestamp", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="},
		{"TimeStamp", "CT9X0VtwR86fNWSnsc6v8YGOjuE="},
	}
	for _, tc := range tests {
		params := url.Values{}
		for k, v := range base {
			params[k] = v
		}
		params.Set(tc.tsName, "2016-02-23T12:46:24Z")
		if got := aliyun.Signature(http.MethodGet, "testsecret", params); got != tc.want {
			t.Errorf("%s: Signature = %q, want %q", tc.tsName, got, tc.want)
		}
	}
	want := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
		"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0" +
		"%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	base.Set("Timestamp", "2016-02-23T12:46:24Z")
	if got := aliyun.StringToSign(http.MethodGet, base); got != want {
		t.Errorf("StringToSign = %q,\nwant %q", got, want)
	}
}

func TestPercentEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcXYZ019-_.~", "abcXYZ019-_.~"},
		{"a b", "a%20b"},
		{"*", "%2A"},
		{"+", "%2B"},
		{`{"code":"1"}`, "%7B%22code%22%3A%221%22%7D"},
		{"阿", "%E9%98%BF"},
		{"/", "%2F"},
	}
	for _, tc := range tests {
		if got := aliyun.PercentEncode(tc.in); got != tc.want {
			t.Errorf("PercentEncode(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := docPercentEncode(tc.in); got != tc.want {
			t.Errorf("docPercentEncode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPhoneNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+8613800138000", "13800138000"},
		{"+85212345678", "85212345678"},
		{"+14155550100", "14155550100"},
		{"+861012345678", "861012345678"}, // not 11 digits after 86: kept whole
		{"13800138000", ""},
		{"+0123", ""},
	}
	for _, tc := range tests {
		got, err := aliyun.PhoneNumber(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("PhoneNumber(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestInternationalNumber(t *testing.T) {
	g := smstest.NewGateway()
	srv := g.Server(t, newFake(g))
	p, _ := aliyun.New(config(srv.URL), aliyun.WithHTTPClient(srv.Client()))
	msg := smstest.Message()
	msg.To = "+85291234567"
	if _, err := p.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got := g.Accepted(); len(got) != 1 || got[0].To != msg.To || got[0].Ref != msg.ID {
		t.Errorf("accepted %+v", got)
	}
}

// TestFakeRefusesWhatAliyunRefuses: bad credentials and template
// misconfiguration are temporary operator errors, logged without secrets,
// and the code echoed in SignatureDoesNotMatch does not reach the error.
func TestFakeRefusesWhatAliyunRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*aliyun.Config)
		opt  aliyun.Option
	}{
		{"wrong secret", func(c *aliyun.Config) { c.AccessKeySecret = "wrong-secret" }, nil},
		{"wrong key id", func(c *aliyun.Config) { c.AccessKeyID = "LTAIother" }, nil},
		{"wrong template", func(c *aliyun.Config) { c.TemplateCode = "SMS_1" }, nil},
		{"wrong sign name", func(c *aliyun.Config) { c.SignName = "other" }, nil},
		{"missing variable", func(c *aliyun.Config) { c.TemplateParams = map[string]string{"code": aliyun.ParamCode} }, nil},
		{"stale timestamp", func(*aliyun.Config) {}, aliyun.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []aliyun.Option
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			cfg := func(endpoint string) aliyun.Config {
				c := config(endpoint)
				tc.edit(&c)
				return c
			}
			gatewaytest.CheckOperatorRefusal(t, newFake, newProvider(cfg, opts...), keySecret, "wrong-secret")
		})
	}
}

func TestCodes(t *testing.T) {
	tests := []struct {
		code      string
		status    int
		permanent bool
		operator  bool
	}{
		{"isv.MOBILE_NUMBER_ILLEGAL", 200, true, false},
		{"isv.BLACK_KEY_CONTROL_LIMIT", 200, true, false},
		{"isv.SMS_CONTENT_ILLEGAL", 200, true, false},
		{"isv.BUSINESS_LIMIT_CONTROL", 200, false, false},
		{"isv.DAY_LIMIT_CONTROL", 200, false, false},
		{"Throttling.User", 400, false, false},
		{"isp.SYSTEM_ERROR", 200, false, false},
		{"isv.TEMPLATE_MISSING_PARAMETERS", 200, false, true},
		{"isv.OUT_OF_SERVICE", 200, false, true},
		{"isv.AMOUNT_NOT_ENOUGH", 200, false, true},
		{"isp.RAM_PERMISSION_DENY", 200, false, true},
		{"SignatureDoesNotMatch", 400, false, true},
		{"InvalidAccessKeyId.NotFound", 404, false, true},
		{"isv.SOMETHING_NEW", 200, false, false},
	}
	for _, tc := range tests {
		gatewaytest.CheckAnswer(t, newProvider(config), gatewaytest.Answer{
			Name: tc.code, Status: tc.status, Body: `{"Code":"` + tc.code + `","Message":"m","RequestId":"r"}`,
			Permanent: tc.permanent, Operator: tc.operator,
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*aliyun.Config)
	}{
		{"no key id", func(c *aliyun.Config) { c.AccessKeyID = "" }},
		{"no secret", func(c *aliyun.Config) { c.AccessKeySecret = "" }},
		{"no sign name", func(c *aliyun.Config) { c.SignName = "" }},
		{"no template", func(c *aliyun.Config) { c.TemplateCode = "" }},
		{"bad endpoint", func(c *aliyun.Config) { c.Endpoint = "dysmsapi.aliyuncs.com" }},
		{"bad source", func(c *aliyun.Config) { c.TemplateParams = map[string]string{"code": "name"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config("")
			tc.edit(&c)
			if _, err := aliyun.New(c); err == nil {
				t.Fatal("New succeeded")
			} else if strings.Contains(err.Error(), keySecret) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}
