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
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smscode/smscode/server/sms"
)

var _ sms.Provider = (*Provider)(nil)

// DefaultEndpoint is the public Dysmsapi endpoint.
const DefaultEndpoint = "https://dysmsapi.aliyuncs.com"

// TimestampLayout is the layout of the Timestamp parameter (UTC).
const TimestampLayout = "2006-01-02T15:04:05Z"

const maxAnswer = 4 << 10

// Template parameter sources for Config.TemplateParams.
const (
	ParamCode    = "code"
	ParamMinutes = "minutes"
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
}

// Provider sends messages through Alibaba Cloud SMS.
type Provider struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// Option changes a Provider's defaults.
type Option func(*Provider)

// WithHTTPClient sets the HTTP client; the default has a 10-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.client = c } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.log = l } }

// WithClock sets the clock of the Timestamp parameter; the default is
// time.Now.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

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
		if name == "" || (src != ParamCode && src != ParamMinutes) {
			return nil, fmt.Errorf("aliyun: template parameter %q: source %q is not %q or %q", name, src, ParamCode, ParamMinutes)
		}
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("aliyun: endpoint must be an absolute https URL")
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" || cfg.SignName == "" || cfg.TemplateCode == "" {
		return nil, errors.New("aliyun: access_key_id, access_key_secret, sign_name and template_code are required")
	}
	p := &Provider{
		cfg:    cfg,
		client: &http.Client{Timeout: 10 * time.Second},
		log:    slog.New(slog.DiscardHandler),
		now:    time.Now,
	}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Name implements sms.Provider.
func (p *Provider) Name() string { return p.cfg.Name }

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// PhoneNumber converts an E.164 number to the PhoneNumbers form: mainland
// China numbers (+86 and 11 digits) without the country code, others as
// country code and number without "+" (+85212345678 becomes 85212345678).
func PhoneNumber(e164Number string) (string, error) {
	if !e164.MatchString(e164Number) {
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
		if src == ParamMinutes {
			vars[name] = strconv.Itoa(msg.TTLMinutes)
		} else {
			vars[name] = msg.Code
		}
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
		"Timestamp":        {p.now().UTC().Format(TimestampLayout)},
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.cfg.Endpoint, "/")+"/", strings.NewReader(body))
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: build request: %w", p.cfg.Name, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := p.client.Do(req)
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: SendSms: %w", p.cfg.Name, unwrapURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return p.classify(resp.StatusCode, answer, msg)
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
	case accepted:
		if a.BizID == "" {
			return sms.Receipt{}, fmt.Errorf("%s: Code OK without BizId", p.cfg.Name)
		}
		return sms.Receipt{Provider: p.cfg.Name, MessageID: a.BizID}, nil
	case permanent:
		return sms.Receipt{}, fmt.Errorf("%s: %s: %s: %w", p.cfg.Name, a.Code, redact(a.Message, msg), sms.ErrPermanent)
	case operator:
		// The message of SignatureDoesNotMatch repeats the string to sign;
		// only the code is logged.
		p.log.Error("aliyun refused the request: check the AccessKey, its permissions, the account, the signature name and the template",
			"provider", p.cfg.Name, "code", a.Code, "http_status", status)
		return sms.Receipt{}, fmt.Errorf("%s: %s (operator error)", p.cfg.Name, a.Code)
	default:
		return sms.Receipt{}, fmt.Errorf("%s: HTTP %d, %s: %s", p.cfg.Name, status, a.Code, redact(a.Message, msg))
	}
}

type outcome int

const (
	temporary outcome = iota
	accepted
	permanent
	operator
)

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
func kind(code string) outcome {
	switch {
	case code == "OK":
		return accepted
	case permanentCodes[code]:
		return permanent
	case operatorCodes[code]:
		return operator
	}
	return temporary
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact shortens a gateway message and masks the code and the number.
func redact(s string, msg sms.Message) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	s = strings.ToValidUTF8(s, "")
	for _, v := range []string{msg.Code, msg.To, strings.TrimPrefix(msg.To, "+"), strings.TrimPrefix(msg.To, "+86")} {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return strings.TrimSpace(s)
}
