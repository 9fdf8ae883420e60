package config

import (
	"errors"
	"fmt"

	"github.com/smscode/smscode/server/sms/aliyun"
	"github.com/smscode/smscode/server/sms/huawei"
	"github.com/smscode/smscode/server/sms/twilio"
	"github.com/smscode/smscode/server/sms/webhook"
)

// ProviderConfig is one SMS provider. Kind chooses which; the block of the
// same name holds its settings (secrets are best given as ${ENV} references).
type ProviderConfig struct {
	// Name identifies the provider in failover chains, logs and metrics.
	Name string `yaml:"name"`
	// Kind is log (development: the message goes to the server log), null
	// (drops messages; benchmarks), webhook, huawei, aliyun or twilio.
	Kind    string          `yaml:"kind"`
	Webhook *webhook.Config `yaml:"webhook"`
	Huawei  *huawei.Config  `yaml:"huawei"`
	Aliyun  *aliyun.Config  `yaml:"aliyun"`
	Twilio  *twilio.Config  `yaml:"twilio"`
}

func (p ProviderConfig) validate(devMode bool) error {
	if p.Name == "" {
		return errors.New("name is required")
	}
	blocks := map[string]bool{"webhook": p.Webhook != nil, "huawei": p.Huawei != nil,
		"aliyun": p.Aliyun != nil, "twilio": p.Twilio != nil}
	for kind, set := range blocks {
		if set && kind != p.Kind {
			return fmt.Errorf("%s: a %s block on a provider of kind %q", p.Name, kind, p.Kind)
		}
	}
	switch p.Kind {
	case "log", "null":
		if !devMode {
			return fmt.Errorf("%s: kind %s delivers nothing and is allowed only in dev mode", p.Name, p.Kind)
		}
	case "webhook", "huawei", "aliyun", "twilio":
		if !blocks[p.Kind] {
			return fmt.Errorf("%s: kind %s needs a %s block", p.Name, p.Kind, p.Kind)
		}
	default:
		return fmt.Errorf("%s: kind %q: want log, null, webhook, huawei, aliyun or twilio", p.Name, p.Kind)
	}
	return nil
}
