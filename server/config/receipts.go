package config

import (
	"errors"
	"net/url"
	"time"

	"github.com/smscode/smscode/server/receipts"
)

// ReceiptsConfig configures the delivery receipts. With PublicURL set, the
// providers ask their gateways for status callbacks to
// PublicURL/api/v2/sdk/sms/receipts/<provider name> (Twilio's
// StatusCallback, Huawei Cloud's statusCallback with the provider's
// receipt_token, the webhook payload's receipt_url; Alibaba Cloud's push
// URL is set in its console), and each message sent through them is
// tracked until its receipt. Without it no receipt is asked for, and none
// is tracked, except for Alibaba Cloud providers with a receipt_token.
type ReceiptsConfig struct {
	// PublicURL is the server's URL as the gateways reach it, such as
	// https://sms.example.com (scheme and host, optionally a path prefix;
	// no query). Default empty: no callbacks asked for.
	PublicURL string `yaml:"public_url"`
	// TTL is how long a sent message is remembered for its receipt.
	// Default 24h.
	TTL time.Duration `yaml:"ttl"`
	// Wait is how long a receipt is waited for: a message with none by
	// then is counted unknown (smscode_sms_deliveries_total{status=
	// "unknown"}). Default 30m; at most TTL.
	Wait time.Duration `yaml:"wait"`
	// SweepInterval is how often the messages past Wait are looked for.
	// Default 1m.
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

func (r ReceiptsConfig) validate() error {
	if r.PublicURL != "" {
		u, err := url.Parse(r.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("receipts.public_url: want an absolute http(s) URL without query, such as https://sms.example.com")
		}
	}
	if r.TTL < 0 || r.Wait < 0 || r.SweepInterval < 0 {
		return errors.New("receipts: ttl, wait and sweep_interval must not be negative")
	}
	if !(receipts.Config{TTL: r.TTL, Wait: r.Wait, SweepInterval: r.SweepInterval}).Valid() {
		return errors.New("receipts: want 1s <= wait <= ttl")
	}
	return nil
}
