// Package huawei is an sms.Provider for Huawei Cloud Message & SMS
// (MSGSMS): POST {endpoint}/sms/batchSendSms/v1, form-encoded, with the
// WSSE UsernameToken authentication (Authorization and X-WSSE headers).
//
// The message is sent with a registered template (Config.TemplateID) whose
// parameters, in order, are taken from the message as Config.TemplateParams
// says: "code" and "minutes".
//
// Answers: code "000000" accepts the message, result[0].smsMsgId is its id.
// E000510 (the send failed for the number, with a per-number status) is a
// permanent refusal. Every other code is temporary. Among them, operator
// errors are logged at error level: the request-format, authentication and
// application codes (E000000-E000045, E000101-E000112), the IP whitelist
// (E000620) and parameter errors (E000503: a template or signature
// misconfiguration, since numbers are checked before sending). They are
// temporary because another provider may well be configured correctly.
// HTTP 5xx and answers without a JSON code are temporary too.
//
// Destination-level refusals (blacklists, unreachable numbers) arrive
// later, in status reports, not in the API answer.
package huawei

import (
	"context"
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

// Path is the batchSendSms API path, appended to Config.Endpoint.
const Path = "/sms/batchSendSms/v1"

// Template parameter sources for Config.TemplateParams.
const (
	ParamCode    = gateway.ParamCode
	ParamMinutes = gateway.ParamMinutes
)

// Config configures a Huawei Cloud SMS provider. The application values
// come from the console's application management page.
type Config struct {
	// Name is the provider's name in receipts, logs and metrics; the
	// default is "huawei".
	Name string `yaml:"name"`
	// Endpoint is the application access address, such as
	// https://smsapi.cn-north-4.myhuaweicloud.com:443. Required.
	Endpoint string `yaml:"endpoint"`
	// AppKey and AppSecret are the application's credentials. Required.
	AppKey    string `yaml:"app_key"`
	AppSecret string `yaml:"app_secret"`
	// Sender is the channel number ("from"). Required.
	Sender string `yaml:"sender"`
	// TemplateID is the registered template. Required.
	TemplateID string `yaml:"template_id"`
	// TemplateParams are the template's variables in order: ParamCode or
	// ParamMinutes. The default is [code].
	TemplateParams []string `yaml:"template_params"`
	// Signature is the signature name, needed with general-purpose
	// templates of mainland China; optional.
	Signature string `yaml:"signature"`
	// StatusCallback is the status report URL (the statusCallback of each
	// send); optional. With receipts.public_url and ReceiptToken set, wire
	// sets it to smscode's receipt endpoint for this provider, the token
	// in its query (see the function StatusCallback).
	StatusCallback string `yaml:"status_callback"`
	// ReceiptToken authenticates the status reports: Huawei Cloud does not
	// sign them, so the callback URL carries this unguessable token
	// (?token=, 24 to 128 letters, digits, "-" and "_"), which smscode
	// compares in constant time. Without it, receipts are refused.
	ReceiptToken string `yaml:"receipt_token"`
}

// Provider sends messages through Huawei Cloud SMS.
type Provider struct {
	cfg Config
	url string
	gw  gateway.Base
}

// Option changes a Provider's defaults.
type Option func(*Provider)

// WithHTTPClient sets the HTTP client; the default has a 10-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.gw.Client = c } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.gw.Log = l } }

// WithClock sets the clock of the WSSE Created field; the default is
// time.Now.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.gw.Now = now } }

// New returns a Huawei Cloud SMS provider after checking cfg.
func New(cfg Config, opts ...Option) (*Provider, error) {
	if cfg.Name == "" {
		cfg.Name = "huawei"
	}
	if len(cfg.TemplateParams) == 0 {
		cfg.TemplateParams = []string{ParamCode}
	}
	for _, s := range cfg.TemplateParams {
		if !gateway.ValidParam(s) {
			return nil, fmt.Errorf("huawei: template parameter %q is not %q or %q", s, ParamCode, ParamMinutes)
		}
	}
	if _, ok := gateway.ParseHTTPURL(cfg.Endpoint); !ok {
		return nil, errors.New("huawei: endpoint must be an absolute https URL")
	}
	if err := gateway.CheckReceiptTokenConfig("huawei", cfg.ReceiptToken); err != nil {
		return nil, err
	}
	if cfg.AppKey == "" || cfg.AppSecret == "" || cfg.Sender == "" || cfg.TemplateID == "" {
		return nil, errors.New("huawei: app_key, app_secret, sender and template_id are required")
	}
	p := &Provider{
		cfg: cfg,
		url: strings.TrimSuffix(cfg.Endpoint, "/") + Path,
		gw:  gateway.NewBase(cfg.Name),
	}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Name implements sms.Provider.
func (p *Provider) Name() string { return p.cfg.Name }

// Send implements sms.Provider.
func (p *Provider) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	if err := p.gw.CheckE164(msg.To); err != nil {
		return sms.Receipt{}, err
	}
	paras := make([]string, len(p.cfg.TemplateParams))
	for i, s := range p.cfg.TemplateParams {
		paras[i] = gateway.ParamValue(s, msg)
	}
	parasJSON, err := json.Marshal(paras)
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: encode template parameters: %w", p.cfg.Name, err)
	}
	form := url.Values{
		"from":          {p.cfg.Sender},
		"to":            {msg.To},
		"templateId":    {p.cfg.TemplateID},
		"templateParas": {string(parasJSON)},
	}
	if p.cfg.Signature != "" {
		form.Set("signature", p.cfg.Signature)
	}
	if p.cfg.StatusCallback != "" {
		form.Set("statusCallback", p.cfg.StatusCallback)
	}
	wsse, err := wsseHeader(p.cfg.AppKey, p.cfg.AppSecret, p.gw.Now())
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: nonce: %w", p.cfg.Name, err)
	}
	req, err := p.gw.NewFormRequest(ctx, p.url, form.Encode())
	if err != nil {
		return sms.Receipt{}, err
	}
	req.Header.Set("Authorization", AuthorizationHeader)
	req.Header.Set("X-WSSE", wsse)

	status, answer, err := p.gw.Do(req, "POST "+Path)
	if err != nil {
		return sms.Receipt{}, err
	}
	return p.classify(status, answer, msg)
}

// answer is the documented response body.
type answer struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Result      []struct {
		OriginTo string `json:"originTo"`
		SMSMsgID string `json:"smsMsgId"`
		Status   string `json:"status"`
	} `json:"result"`
}

func (p *Provider) classify(status int, body []byte, msg sms.Message) (sms.Receipt, error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil || a.Code == "" {
		return sms.Receipt{}, fmt.Errorf("%s: HTTP %d without a result code", p.cfg.Name, status)
	}
	desc := gateway.Redact(a.Description, msg)
	switch kind(a.Code) {
	case gateway.Accepted:
		if len(a.Result) == 0 || a.Result[0].SMSMsgID == "" {
			return sms.Receipt{}, fmt.Errorf("%s: code 000000 without smsMsgId", p.cfg.Name)
		}
		if st := a.Result[0].Status; st != "" && st != "000000" {
			return sms.Receipt{}, fmt.Errorf("%s: number status %s: %w", p.cfg.Name, st, sms.ErrPermanent)
		}
		return sms.Receipt{Provider: p.cfg.Name, MessageID: a.Result[0].SMSMsgID}, nil
	case gateway.Permanent:
		st := ""
		if len(a.Result) > 0 {
			st = a.Result[0].Status
		}
		return sms.Receipt{}, fmt.Errorf("%s: %s (number status %q): %s: %w", p.cfg.Name, a.Code, st, desc, sms.ErrPermanent)
	case gateway.Operator:
		p.gw.LogOperatorError("huawei refused the request: check the application credentials, IP whitelist, template and sender",
			"code", a.Code, "description", desc, "http_status", status)
		return sms.Receipt{}, fmt.Errorf("%s: %s (operator error): %s", p.cfg.Name, a.Code, desc)
	default:
		return sms.Receipt{}, fmt.Errorf("%s: HTTP %d, %s: %s", p.cfg.Name, status, a.Code, desc)
	}
}

// kind classifies a documented result code.
func kind(code string) gateway.Outcome {
	switch {
	case code == "000000":
		return gateway.Accepted
	case code == "E000510":
		return gateway.Permanent
	case code == "E000503", code == "E000620":
		return gateway.Operator
	case len(code) == 7 && strings.HasPrefix(code, "E0000") && code <= "E000045":
		return gateway.Operator
	case len(code) == 7 && strings.HasPrefix(code, "E0001") && code >= "E000101" && code <= "E000112":
		return gateway.Operator
	}
	return gateway.Temporary
}
