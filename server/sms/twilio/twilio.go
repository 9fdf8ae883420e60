// Package twilio is an sms.Provider for the Twilio Programmable Messaging
// API: POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json with the
// form fields To, From or MessagingServiceSid, and Body (the rendered
// text), authenticated with HTTP basic auth (the Account SID and auth
// token, or an API key SID and secret).
//
// Answers: 201 accepts the message (sid is its id). Error answers carry
// {code, message, more_info, status}. Refusals of the destination are
// permanent: 21211 (invalid To), 21214 (To cannot be reached), 21610 (the
// recipient replied STOP), 21612 (To not reachable by SMS), 21614 (To is
// not a mobile number). Throttling (429, 20429) and 5xx are temporary.
// Account and sender configuration errors are operator errors, logged at
// error level and temporary so that a failover can try another provider:
// 20003 (authentication), 20404 (no such account), 21408 (the destination
// region is not enabled in the account's geographic permissions: another
// provider may reach it), 21606 and 21659 (From is not an SMS-capable
// Twilio number), and any other 401 or 403. Other codes are temporary.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gateway"
)

var _ sms.Provider = (*Provider)(nil)

// DefaultBaseURL is Twilio's REST API base URL.
const DefaultBaseURL = "https://api.twilio.com"

// Config configures a Twilio provider.
type Config struct {
	// Name is the provider's name in receipts, logs and metrics; the
	// default is "twilio".
	Name string `yaml:"name"`
	// BaseURL is the API base URL; the default is DefaultBaseURL.
	BaseURL string `yaml:"base_url"`
	// AccountSID is the account (AC...). Required.
	AccountSID string `yaml:"account_sid"`
	// APIKeySID, if set, is the API key (SK...) used as the basic-auth
	// user name, with AuthToken holding the key's secret; otherwise the
	// user name is AccountSID and AuthToken is the account's auth token.
	APIKeySID string `yaml:"api_key_sid"`
	// AuthToken is the auth token or the API key secret. Required.
	AuthToken string `yaml:"auth_token"`
	// From is the sender (an E.164 number or an alphanumeric sender id);
	// MessagingServiceSID (MG...) is a messaging service. One is required;
	// with both, Twilio uses the messaging service.
	From                string `yaml:"from"`
	MessagingServiceSID string `yaml:"messaging_service_sid"`
	// StatusCallback, when set, is the URL Twilio posts the message's
	// status changes to (the StatusCallback parameter of each message):
	// smscode's receipt endpoint for this provider, which checks their
	// X-Twilio-Signature against this exact URL (receipts.go). wire sets
	// it from receipts.public_url.
	StatusCallback string `yaml:"status_callback"`
}

// Provider sends messages through Twilio.
type Provider struct {
	cfg  Config
	url  string
	user string
	gw   gateway.Base
	// callbacks are cfg.StatusCallback's spellings (urlSpellings), which
	// a receipt's signature may be over; none without a StatusCallback.
	callbacks []string
}

// Option changes a Provider's defaults.
type Option func(*Provider)

// WithHTTPClient sets the HTTP client; the default has a 10-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.gw.Client = c } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.gw.Log = l } }

var sidRE = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)

// New returns a Twilio provider after checking cfg.
func New(cfg Config, opts ...Option) (*Provider, error) {
	if cfg.Name == "" {
		cfg.Name = "twilio"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if _, ok := gateway.ParseHTTPURL(cfg.BaseURL); !ok {
		return nil, errors.New("twilio: base_url must be an absolute https URL")
	}
	if !sidRE.MatchString(cfg.AccountSID) || !strings.HasPrefix(cfg.AccountSID, "AC") {
		return nil, errors.New("twilio: account_sid must be an AC followed by 32 hex digits")
	}
	if cfg.APIKeySID != "" && (!sidRE.MatchString(cfg.APIKeySID) || !strings.HasPrefix(cfg.APIKeySID, "SK")) {
		return nil, errors.New("twilio: api_key_sid must be an SK followed by 32 hex digits")
	}
	if cfg.AuthToken == "" {
		return nil, errors.New("twilio: auth_token is required")
	}
	if cfg.StatusCallback != "" {
		if _, ok := gateway.ParseHTTPURL(cfg.StatusCallback); !ok {
			return nil, errors.New("twilio: status_callback must be an absolute http or https URL")
		}
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		return nil, errors.New("twilio: from or messaging_service_sid is required")
	}
	p := &Provider{
		cfg:  cfg,
		url:  strings.TrimSuffix(cfg.BaseURL, "/") + "/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json",
		user: cfg.AccountSID,
		gw:   gateway.NewBase(cfg.Name),
	}
	if cfg.APIKeySID != "" {
		p.user = cfg.APIKeySID
	}
	if cfg.StatusCallback != "" {
		p.callbacks = urlSpellings(cfg.StatusCallback)
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
	form := url.Values{"To": {msg.To}, "Body": {msg.Text}}
	if p.cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", p.cfg.MessagingServiceSID)
	}
	if p.cfg.From != "" {
		form.Set("From", p.cfg.From)
	}
	if p.cfg.StatusCallback != "" {
		form.Set("StatusCallback", p.cfg.StatusCallback)
	}
	req, err := p.gw.NewFormRequest(ctx, p.url, form.Encode())
	if err != nil {
		return sms.Receipt{}, err
	}
	req.SetBasicAuth(p.user, p.cfg.AuthToken)

	status, answer, err := p.gw.Do(req, "create message")
	if err != nil {
		return sms.Receipt{}, err
	}
	return p.classify(status, answer, msg)
}

// apiError is Twilio's error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (p *Provider) classify(status int, body []byte, msg sms.Message) (sms.Receipt, error) {
	if status == http.StatusCreated || status == http.StatusOK {
		var m struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal(body, &m); err != nil || m.SID == "" {
			return sms.Receipt{}, fmt.Errorf("%s: HTTP %d without a message sid", p.cfg.Name, status)
		}
		return sms.Receipt{Provider: p.cfg.Name, MessageID: m.SID}, nil
	}
	var e apiError
	_ = json.Unmarshal(body, &e)
	text := gateway.Redact(e.Message, msg)
	switch {
	case permanentCodes[e.Code]:
		return sms.Receipt{}, fmt.Errorf("%s: error %d: %s: %w", p.cfg.Name, e.Code, text, sms.ErrPermanent)
	case operatorCodes[e.Code] || status == http.StatusUnauthorized || status == http.StatusForbidden:
		p.gw.LogOperatorError("twilio refused the request: check the account, credentials, sender and geographic permissions",
			"code", e.Code, "http_status", status, "more_info", e.MoreInfo)
		return sms.Receipt{}, fmt.Errorf("%s: error %d (operator error, HTTP %d): %s", p.cfg.Name, e.Code, status, text)
	default:
		return sms.Receipt{}, fmt.Errorf("%s: HTTP %d, error %d: %s", p.cfg.Name, status, e.Code, text)
	}
}

var (
	permanentCodes = map[int]bool{
		21211: true, // invalid 'To' phone number
		21214: true, // 'To' phone number cannot be reached
		21610: true, // attempt to send to an unsubscribed recipient
		21612: true, // 'To' phone number is not currently reachable via SMS
		21614: true, // 'To' number is not a valid mobile number
	}
	operatorCodes = map[int]bool{
		20003: true, // authentication error
		20404: true, // resource not found (account)
		21408: true, // permission to send to this region is not enabled
		21606: true, // 'From' number is not a valid, SMS-capable number
		21659: true, // 'From' is not a Twilio number
	}
)
