// Package webhook is an sms.Provider that hands each message to an HTTP
// endpoint of the operator's own, as a JSON POST signed per the Standard
// Webhooks spec (https://www.standardwebhooks.com): headers webhook-id (the
// message id, stable across failover attempts, for deduplication),
// webhook-timestamp and webhook-signature ("v1,<base64 HMAC-SHA256>").
//
// Answers: 2xx accepts the message (the message id is "message_id" or "id"
// of a JSON answer, else the webhook id); 408, 425, 429, 3xx and 5xx are
// temporary; 401, 403, 404 and 410 say the endpoint or its secret is
// misconfigured, an operator error that is logged at error level and
// treated as temporary so that a failover can try another provider; any
// other 4xx is the endpoint refusing this message for good (sms.ErrPermanent).
//
// Verify is the receiving side's check, for teams that implement endpoints.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smscode/smscode/server/sms"
)

var _ sms.Provider = (*Provider)(nil)

// maxAnswer is how much of an endpoint's answer is read.
const maxAnswer = 4 << 10

// Config configures a webhook provider.
type Config struct {
	// Name is the provider's name in receipts, logs and metrics. The
	// default is "webhook".
	Name string `yaml:"name"`
	// URL is the endpoint; http or https. Required.
	URL string `yaml:"url"`
	// Secret is the Standard Webhooks signing secret, "whsec_" followed by
	// the base64 of 24 to 64 random bytes. Required.
	Secret string `yaml:"secret"`
}

// Payload is the JSON body of a webhook.
type Payload struct {
	ID         string `json:"id"`
	To         string `json:"to"`
	Text       string `json:"text"`
	Code       string `json:"code"`
	TTLMinutes int    `json:"ttl_minutes"`
	Scenario   string `json:"scenario"`
	Lang       string `json:"lang"`
	ClientID   string `json:"client_id"`
	TenantID   string `json:"tenant_id"`
}

// Provider posts messages to a webhook endpoint.
type Provider struct {
	name   string
	url    string
	host   string
	secret string
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// Option changes a Provider's defaults.
type Option func(*Provider)

// WithHTTPClient sets the HTTP client. The default is a client with a
// 10-second timeout; the context given to Send bounds each request too.
// The provider never follows redirects, whatever the client says.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.client = c } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.log = l } }

// WithClock sets the clock used for webhook-timestamp; the default is
// time.Now.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// New returns a webhook provider. It checks the URL and the secret.
func New(cfg Config, opts ...Option) (*Provider, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook: url must be an absolute http or https URL")
	}
	if _, err := DecodeSecret(cfg.Secret); err != nil {
		return nil, err
	}
	p := &Provider{
		name:   cfg.Name,
		url:    cfg.URL,
		host:   u.Host,
		secret: cfg.Secret,
		client: &http.Client{Timeout: 10 * time.Second},
		log:    slog.New(slog.DiscardHandler),
		now:    time.Now,
	}
	if p.name == "" {
		p.name = "webhook"
	}
	for _, o := range opts {
		o(p)
	}
	// A shallow copy, so that redirects are never followed (a redirect
	// would carry the code to another host) without changing the caller's
	// client.
	c := *p.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.client = &c
	return p, nil
}

// Name implements sms.Provider.
func (p *Provider) Name() string { return p.name }

// Send implements sms.Provider: it posts the message and classifies the
// answer as described in the package documentation.
func (p *Provider) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	if msg.ID == "" || strings.ContainsAny(msg.ID, ". \t\r\n") {
		return sms.Receipt{}, fmt.Errorf("%s: message id %q cannot be a webhook-id", p.name, msg.ID)
	}
	body, err := json.Marshal(Payload{
		ID: msg.ID, To: msg.To, Text: msg.Text, Code: msg.Code, TTLMinutes: msg.TTLMinutes,
		Scenario: msg.Scenario, Lang: msg.Lang, ClientID: msg.ClientID, TenantID: msg.TenantID,
	})
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: encode: %w", p.name, err)
	}
	ts := p.now()
	sig, err := Sign(p.secret, msg.ID, ts, body)
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: sign: %w", p.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: build request: %w", p.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, msg.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)

	resp, err := p.client.Do(req)
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: POST %s: %w", p.name, p.host, unwrapURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return p.classify(resp.StatusCode, answer, msg)
}

func (p *Provider) classify(status int, answer []byte, msg sms.Message) (sms.Receipt, error) {
	switch {
	case status >= 200 && status < 300:
		var a struct {
			MessageID string `json:"message_id"`
			ID        string `json:"id"`
		}
		_ = json.Unmarshal(answer, &a)
		id := a.MessageID
		if id == "" {
			id = a.ID
		}
		if id == "" {
			id = msg.ID
		}
		return sms.Receipt{Provider: p.name, MessageID: id}, nil
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusNotFound, status == http.StatusGone:
		p.log.Error("webhook endpoint refused the request: check the provider's url and secret",
			"provider", p.name, "host", p.host, "status", status)
		return sms.Receipt{}, fmt.Errorf("%s: endpoint answered %d (misconfigured endpoint or secret)", p.name, status)
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return sms.Receipt{}, fmt.Errorf("%s: endpoint answered %d", p.name, status)
	case status >= 400 && status < 500:
		return sms.Receipt{}, fmt.Errorf("%s: endpoint refused the message with %d: %s: %w",
			p.name, status, redact(string(answer), msg), sms.ErrPermanent)
	default:
		return sms.Receipt{}, fmt.Errorf("%s: endpoint answered %d", p.name, status)
	}
}

// unwrapURL drops the *url.Error wrapper, whose text repeats the URL (which
// may carry a token in its query).
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact shortens an endpoint's answer for an error message and masks the
// code and the number in it.
func redact(s string, msg sms.Message) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	s = strings.ToValidUTF8(s, "")
	for _, v := range []string{msg.Code, msg.To, strings.TrimPrefix(msg.To, "+")} {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return strings.TrimSpace(s)
}
