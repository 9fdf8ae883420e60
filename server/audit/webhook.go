package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/smscode/smscode/server/sms/webhook"
)

// WebhookConfig is a sink that POSTs batches of events to a URL (a SIEM's
// collector), signed as Standard Webhooks sign (webhook-id,
// webhook-timestamp, webhook-signature: HMAC-SHA256 of
// "id.timestamp.body" under a whsec_ secret), so the receiver can check
// them with any Standard Webhooks library.
type WebhookConfig struct {
	URL string `yaml:"url"`
	// Secret is the "whsec_<base64>" signing secret.
	Secret string `yaml:"secret"`
	// Timeout bounds one POST. Default 5s.
	Timeout time.Duration `yaml:"timeout"`
}

// WebhookType is the body's type field.
const WebhookType = "smscode.audit.v1"

// webhookBody is what the sink posts.
type webhookBody struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Webhook is the webhook sink.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
	now    func() time.Time
}

// NewWebhook returns a webhook sink; client nil means a client with
// cfg.Timeout.
func NewWebhook(cfg WebhookConfig, client *http.Client) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("audit: webhook sink: url must be an http or https URL")
	}
	if _, err := webhook.DecodeSecret(cfg.Secret); err != nil {
		return nil, fmt.Errorf("audit: webhook sink: secret: %w", err)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("audit: webhook sink: timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if client == nil {
		client = &http.Client{Timeout: cfg.Timeout}
	}
	return &Webhook{cfg: cfg, client: client, now: time.Now}, nil
}

// Write posts the batch; any status but 2xx is an error (the Trail counts
// the batch as failed; it does not retry, so that a down SIEM costs a
// bounded amount of work).
func (w *Webhook) Write(ctx context.Context, batch []Event) error {
	body, err := json.Marshal(webhookBody{Type: WebhookType, Events: batch})
	if err != nil {
		return err
	}
	id := "msg_" + rand.Text()
	ts := w.now()
	sig, err := webhook.Sign(w.cfg.Secret, id, ts, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderID, id)
	req.Header.Set(webhook.HeaderTimestamp, fmt.Sprint(ts.Unix()))
	req.Header.Set(webhook.HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("audit webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("audit webhook: status %d", resp.StatusCode)
	}
	return nil
}

// Close has nothing to release.
func (w *Webhook) Close() error { return nil }
