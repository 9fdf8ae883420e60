package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/aliyun"
	"github.com/smscode/smscode/server/sms/failover"
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

// buildProvider makes the provider a ProviderConfig describes.
func buildProvider(p ProviderConfig, log *slog.Logger) (sms.Provider, error) {
	var prov sms.Provider
	var err error
	switch p.Kind {
	case "log":
		prov = sms.NewLog(log, 100)
	case "null":
		prov = sms.NewNull()
	case "webhook":
		c := *p.Webhook
		c.Name = p.Name
		prov, err = webhook.New(c, webhook.WithLogger(log))
	case "huawei":
		c := *p.Huawei
		c.Name = p.Name
		prov, err = huawei.New(c, huawei.WithLogger(log))
	case "aliyun":
		c := *p.Aliyun
		c.Name = p.Name
		prov, err = aliyun.New(c, aliyun.WithLogger(log))
	case "twilio":
		c := *p.Twilio
		c.Name = p.Name
		prov, err = twilio.New(c, twilio.WithLogger(log))
	default:
		err = fmt.Errorf("unknown kind %q", p.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("config: providers: %s: %w", p.Name, err)
	}
	return prov, nil
}

// chain returns the failover chain for a list of provider names, making
// each distinct chain once. Even a chain of one goes through the failover,
// for its per-provider timeout, circuit breaker and metrics.
func chain(names []string, cfg Config, rt *Runtime, log *slog.Logger) (sms.Provider, error) {
	if len(names) == 0 {
		return nil, errors.New("no SMS provider")
	}
	key := strings.Join(names, ",")
	if f, ok := rt.chains[key]; ok {
		return f, nil
	}
	providers := make([]sms.Provider, len(names))
	for i, n := range names {
		providers[i] = rt.Providers[n]
	}
	// Each chain's collectors carry a chain label, so that several chains
	// can share one registry.
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"chain": key}, rt.Metrics.Registry())
	f, err := failover.New(providers, cfg.Failover, reg, log)
	if err != nil {
		return nil, err
	}
	rt.chains[key] = f
	return f, nil
}
