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
// When the context given to Send holds a span (tracing is on), the request
// carries its W3C traceparent header.
//
// Verify is the receiving side's check, for teams that implement endpoints.
//
// Delivery receipts: with a ReceiptURL, each payload carries receipt_url,
// where the endpoint posts the message's status (ReceiptPayload), signed
// the same way with the same secret (Sign); ReadReceipt checks and parses
// it (receipts.go).
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gateway"
)

var _ sms.Provider = (*Provider)(nil)

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
	// ReceiptURL, when set, is sent in every payload (receipt_url): where
	// the gateway posts the message's delivery receipt, signed with the
	// same secret (see receipts.go). wire sets it from receipts.public_url.
	ReceiptURL string `yaml:"receipt_url"`
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
	// ReceiptURL is where to post this message's delivery receipt
	// (ReceiptPayload, Standard Webhooks signed with the same secret);
	// absent when smscode takes no receipts from this provider.
	ReceiptURL string `json:"receipt_url,omitempty"`
}

// Provider posts messages to a webhook endpoint.
type Provider struct {
	url    string
	host   string
	secret string
	gw     gateway.Base
	// receiptURL is Config.ReceiptURL.
	receiptURL string
}

// Option changes a Provider's defaults.
type Option func(*Provider)

// WithHTTPClient sets the HTTP client. The default is a client with a
// 10-second timeout; the context given to Send bounds each request too.
// The provider never follows redirects, whatever the client says.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.gw.Client = c } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.gw.Log = l } }

// WithClock sets the clock used for webhook-timestamp; the default is
// time.Now.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.gw.Now = now } }

// New returns a webhook provider. It checks the URL and the secret.
func New(cfg Config, opts ...Option) (*Provider, error) {
	u, ok := gateway.ParseHTTPURL(cfg.URL)
	if !ok {
		return nil, errors.New("webhook: url must be an absolute http or https URL")
	}
	if _, err := DecodeSecret(cfg.Secret); err != nil {
		return nil, err
	}
	if cfg.ReceiptURL != "" {
		if _, ok := gateway.ParseHTTPURL(cfg.ReceiptURL); !ok {
			return nil, errors.New("webhook: receipt_url must be an absolute http or https URL")
		}
	}
	if cfg.Name == "" {
		cfg.Name = "webhook"
	}
	p := &Provider{
		url:        cfg.URL,
		host:       u.Host,
		secret:     cfg.Secret,
		gw:         gateway.NewBase(cfg.Name),
		receiptURL: cfg.ReceiptURL,
	}
	for _, o := range opts {
		o(p)
	}
	// A shallow copy, so that redirects are never followed (a redirect
	// would carry the code to another host) without changing the caller's
	// client.
	c := *p.gw.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.gw.Client = &c
	return p, nil
}

// Name implements sms.Provider.
func (p *Provider) Name() string { return p.gw.Name }

// Send implements sms.Provider: it posts the message and classifies the
// answer as described in the package documentation.
func (p *Provider) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	if msg.ID == "" || strings.ContainsAny(msg.ID, ". \t\r\n") {
		return sms.Receipt{}, fmt.Errorf("%s: message id %q cannot be a webhook-id", p.gw.Name, msg.ID)
	}
	body, err := json.Marshal(Payload{
		ID: msg.ID, To: msg.To, Text: msg.Text, Code: msg.Code, TTLMinutes: msg.TTLMinutes,
		Scenario: msg.Scenario, Lang: msg.Lang, ClientID: msg.ClientID, TenantID: msg.TenantID,
		ReceiptURL: p.receiptURL,
	})
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: encode: %w", p.gw.Name, err)
	}
	ts := p.gw.Now()
	sig, err := Sign(p.secret, msg.ID, ts, body)
	if err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: sign: %w", p.gw.Name, err)
	}
	req, err := p.gw.NewRequest(ctx, p.url, "application/json", bytes.NewReader(body))
	if err != nil {
		return sms.Receipt{}, err
	}
	req.Header.Set(HeaderID, msg.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	// W3C traceparent of the span in ctx, the failover's
	// attempt span when tracing is on, so that the operator's endpoint can
	// join the trace; nothing when ctx has no span. Not signed: the
	// signature covers the id, the timestamp and the body.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	// traceparent only: a tracestate comes from the API's caller (a
	// client-chosen value) and is not the gateway's business.
	req.Header.Del("tracestate")

	// The host only: the URL's path and query may carry a token.
	status, answer, err := p.gw.Do(req, "POST "+p.host)
	if err != nil {
		return sms.Receipt{}, err
	}
	return p.classify(status, answer, msg)
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
		return sms.Receipt{Provider: p.gw.Name, MessageID: id}, nil
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusNotFound, status == http.StatusGone:
		p.gw.LogOperatorError("webhook endpoint refused the request: check the provider's url and secret",
			"host", p.host, "status", status)
		return sms.Receipt{}, fmt.Errorf("%s: endpoint answered %d (misconfigured endpoint or secret)", p.gw.Name, status)
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return sms.Receipt{}, fmt.Errorf("%s: endpoint answered %d", p.gw.Name, status)
	case status >= 400 && status < 500:
		return sms.Receipt{}, fmt.Errorf("%s: endpoint refused the message with %d: %s: %w",
			p.gw.Name, status, gateway.Redact(string(answer), msg), sms.ErrPermanent)
	default:
		return sms.Receipt{}, fmt.Errorf("%s: endpoint answered %d", p.gw.Name, status)
	}
}
