// Package aliyun is an sms.Provider for Alibaba Cloud Short Message Service
// (Dysmsapi, API version 2017-05-25): the SendSms RPC action, posted as a
// form to the endpoint and signed with the RPC signature version 1.0
// (HMAC-SHA1 of the sorted, percent-encoded parameters; see Signature).
//
// The message is sent with a registered template (TemplateCode) whose
// variables are filled from the message as Config.TemplateParams says; the
// message id is passed as OutId. Numbers are converted from E.164 as the
// API asks: mainland China numbers without +86, others with their country
// code and without "+".
//
// Answers: Code "OK" accepts the message (BizId is its id). A refusal of
// the number or the content (isv.MOBILE_NUMBER_ILLEGAL,
// isv.BLACK_KEY_CONTROL_LIMIT, isv.SMS_CONTENT_ILLEGAL, ...) is permanent.
// Flow control (isv.BUSINESS_LIMIT_CONTROL and the day and month limits)
// and platform errors are temporary. Template, signature, account and
// credential errors (isv.TEMPLATE_MISSING_PARAMETERS,
// isv.SMS_TEMPLATE_ILLEGAL, SignatureDoesNotMatch, isv.OUT_OF_SERVICE, ...)
// are operator errors: logged at error level and temporary, since another
// provider may be configured correctly. Unknown codes are temporary.
package aliyun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gateway"
)

var _ sms.Provider = (*Provider)(nil)

// DefaultEndpoint is the public Dysmsapi endpoint.
const DefaultEndpoint = "https://dysmsapi.aliyuncs.com"

// TimestampLayout is the layout of the Timestamp parameter (UTC).
const TimestampLayout = "2006-01-02T15:04:05Z"

// Template parameter sources for Config.TemplateParams.
const (
	ParamCode    = gateway.ParamCode
	ParamMinutes = gateway.ParamMinutes
)

// Config configures an Alibaba Cloud SMS provider.
type Config struct {
	// Name is the provider's name in receipts, logs and metrics; the
	// default is "aliyun".
	Name string `yaml:"name"`
	// Endpoint is the API endpoint; the default is DefaultEndpoint.
	Endpoint string `yaml:"endpoint"`
	// AccessKeyID and AccessKeySecret are the RAM user's AccessKey pair
	// (with AliyunDysmsFullAccess or a SendSms policy). Required.
	AccessKeyID     string `yaml:"access_key_id"`
	AccessKeySecret string `yaml:"access_key_secret"`
	// RegionID is sent as RegionId; the default is "cn-hangzhou".
	RegionID string `yaml:"region_id"`
	// SignName is the approved signature name. Required.
	SignName string `yaml:"sign_name"`
	// TemplateCode is the approved template, such as SMS_153055065.
	// Required.
	TemplateCode string `yaml:"template_code"`
	// TemplateParams maps each template variable to its source, ParamCode
	// or ParamMinutes. The default is {"code": "code"}.
	TemplateParams map[string]string `yaml:"template_params"`
	// ReceiptToken authenticates the status reports of the console's "HTTP
	// batch push" (SmsReport), which Alibaba Cloud does not sign: the push
	// URL configured in the console carries this unguessable token
	// (?token=, 24 to 128 letters, digits, "-" and "_"), which smscode
	// compares in constant time. Without it, receipts are refused.
	ReceiptToken string `yaml:"receipt_token"`
}

// Provider sends messages through Alibaba Cloud SMS.
type Provider struct {
	cfg Config
	gw  gateway.Base
}

// Option changes a Provider's defaults.
type Option func(*Provider)

// WithHTTPClient sets the HTTP client; the default has a 10-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.gw.Client = c } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.gw.Log = l } }

// WithClock sets the clock of the Timestamp parameter; the default is
// time.Now.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.gw.Now = now } }

// New returns an Alibaba Cloud SMS provider after checking cfg.
func New(cfg Config, opts ...Option) (*Provider, error) {
	if cfg.Name == "" {
		cfg.Name = "aliyun"
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.RegionID == "" {
		cfg.RegionID = "cn-hangzhou"
	}
	if len(cfg.TemplateParams) == 0 {
		cfg.TemplateParams = map[string]string{"code": ParamCode}
	}
	for name, src := range cfg.TemplateParams {
		if name == "" || !gateway.ValidParam(src) {
			return nil, fmt.Errorf("aliyun: template parameter %q: source %q is not %q or %q", name, src, ParamCode, ParamMinutes)
		}
	}
	if _, ok := gateway.ParseHTTPURL(cfg.Endpoint); !ok {
		return nil, errors.New("aliyun: endpoint must be an absolute https URL")
	}
	if err := gateway.CheckReceiptTokenConfig("aliyun", cfg.ReceiptToken); err != nil {
		return nil, err
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" || cfg.SignName == "" || cfg.TemplateCode == "" {
		return nil, errors.New("aliyun: access_key_id, access_key_secret, sign_name and template_code are required")
	}
	p := &Provider{cfg: cfg, gw: gateway.NewBase(cfg.Name)}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Name implements sms.Provider.
func (p *Provider) Name() string { return p.cfg.Name }

// PhoneNumber converts an E.164 number to the PhoneNumbers form: mainland
// China numbers (+86 and 11 digits) without the country code, others as
// country code and number without "+" (+85212345678 becomes 85212345678).
func PhoneNumber(e164Number string) (string, error) {
	if !gateway.E164.MatchString(e164Number) {
		return "", errors.New("not an E.164 number")
	}
	digits := e164Number[1:]
	if rest, ok := strings.CutPrefix(digits, "86"); ok && len(rest) == 11 {
		return rest, nil
	}
	return digits, nil
}

// Send implements sms.Provider.
func (p *Provider) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	phone, err := PhoneNumber(msg.To)
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: destination: %v: %w", p.cfg.Name, err, sms.ErrPermanent)
	}
	vars := make(map[string]string, len(p.cfg.TemplateParams))
	for name, src := range p.cfg.TemplateParams {
		vars[name] = gateway.ParamValue(src, msg)
	}
	templateParam, err := json.Marshal(vars)
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: encode template parameters: %w", p.cfg.Name, err)
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: nonce: %w", p.cfg.Name, err)
	}
	params := url.Values{
		"AccessKeyId":      {p.cfg.AccessKeyID},
		"Action":           {"SendSms"},
		"Format":           {"JSON"},
		"RegionId":         {p.cfg.RegionID},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {hex.EncodeToString(nonce[:])},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {p.gw.Now().UTC().Format(TimestampLayout)},
		"Version":          {"2017-05-25"},
		"PhoneNumbers":     {phone},
		"SignName":         {p.cfg.SignName},
		"TemplateCode":     {p.cfg.TemplateCode},
		"TemplateParam":    {string(templateParam)},
	}
	if msg.ID != "" {
		params.Set("OutId", msg.ID)
	}
	body := CanonicalQuery(params) + "&Signature=" + PercentEncode(Signature(http.MethodPost, p.cfg.AccessKeySecret, params))
	req, err := p.gw.NewFormRequest(ctx, strings.TrimSuffix(p.cfg.Endpoint, "/")+"/", body)
	if err != nil {
		return sms.Receipt{}, err
	}

	status, answer, err := p.gw.Do(req, "SendSms")
	if err != nil {
		return sms.Receipt{}, err
	}
	return p.classify(status, answer, msg)
}

func (p *Provider) classify(status int, body []byte, msg sms.Message) (sms.Receipt, error) {
	var a struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
		BizID   string `json:"BizId"`
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Code == "" {
		return sms.Receipt{}, fmt.Errorf("%s: HTTP %d without a result code", p.cfg.Name, status)
	}
	switch kind(a.Code) {
	case gateway.Accepted:
		if a.BizID == "" {
			return sms.Receipt{}, fmt.Errorf("%s: Code OK without BizId", p.cfg.Name)
		}
		return sms.Receipt{Provider: p.cfg.Name, MessageID: a.BizID}, nil
	case gateway.Permanent:
		return sms.Receipt{}, fmt.Errorf("%s: %s: %s: %w", p.cfg.Name, a.Code, redact(a.Message, msg), sms.ErrPermanent)
	case gateway.Operator:
		// The message of SignatureDoesNotMatch repeats the string to sign;
		// only the code is logged.
		p.gw.LogOperatorError("aliyun refused the request: check the AccessKey, its permissions, the account, the signature name and the template",
			"code", a.Code, "http_status", status)
		return sms.Receipt{}, fmt.Errorf("%s: %s (operator error)", p.cfg.Name, a.Code)
	default:
		return sms.Receipt{}, fmt.Errorf("%s: HTTP %d, %s: %s", p.cfg.Name, status, a.Code, redact(a.Message, msg))
	}
}

// Codes from the SendSms API error code list, grouped by what retrying on
// another provider can do about them.
var (
	permanentCodes = map[string]bool{
		"isv.MOBILE_NUMBER_ILLEGAL":   true, // not a valid number
		"isv.BLACK_KEY_CONTROL_LIMIT": true, // number or keyword blacklisted
		"isv.SMS_CONTENT_ILLEGAL":     true, // content forbidden
		"isv.PARAM_NOT_SUPPORT_URL":   true, // variable content refused
		"isv.PARAM_LENGTH_LIMIT":      true, // variable content too long
	}
	operatorCodes = map[string]bool{
		"isv.TEMPLATE_MISSING_PARAMETERS":   true,
		"isv.TEMPLATE_PARAMS_ILLEGAL":       true,
		"isv.SMS_TEMPLATE_ILLEGAL":          true,
		"isv.SMS_SIGNATURE_ILLEGAL":         true,
		"isv.SMS_SIGNATURE_SCENE_ILLEGAL":   true,
		"isv.SIGN_STATE_ILLEGAL":            true,
		"isv.SMS_SIGN_ILLEGAL":              true,
		"isv.INVALID_PARAMETERS":            true,
		"isv.INVALID_JSON_PARAM":            true,
		"isv.DOMESTIC_NUMBER_NOT_SUPPORTED": true,
		"isv.DENY_IP_RANGE":                 true,
		"isv.OUT_OF_SERVICE":                true,
		"isv.AMOUNT_NOT_ENOUGH":             true,
		"isv.PRODUCT_UN_SUBSCRIPT":          true,
		"isv.PRODUCT_UNSUBSCRIBE":           true,
		"isv.ACCOUNT_NOT_EXISTS":            true,
		"isv.ACCOUNT_ABNORMAL":              true,
		"isp.RAM_PERMISSION_DENY":           true,
		"SignatureDoesNotMatch":             true,
		"IncompleteSignature":               true,
		"InvalidAccessKeyId.NotFound":       true,
		"InvalidAccessKeyId.Inactive":       true,
		"Forbidden.RAM":                     true,
		"MissingParameter":                  true,
		"InvalidTimeStamp.Expired":          true,
		"InvalidTimeStamp.Format":           true,
	}
)

// kind classifies a Code; flow control (isv.BUSINESS_LIMIT_CONTROL,
// isv.DAY_LIMIT_CONTROL, isv.MONTH_LIMIT_CONTROL, Throttling.*) and
// platform errors (isp.SYSTEM_ERROR, ...) fall through to temporary.
func kind(code string) gateway.Outcome {
	switch {
	case code == "OK":
		return gateway.Accepted
	case permanentCodes[code]:
		return gateway.Permanent
	case operatorCodes[code]:
		return gateway.Operator
	}
	return gateway.Temporary
}

// redact is gateway.Redact that also masks the number without +86, the
// form PhoneNumbers gives mainland numbers and the gateway may echo.
func redact(s string, msg sms.Message) string {
	return gateway.Redact(s, msg, strings.TrimPrefix(msg.To, "+86"))
}
