package wire

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/aliyun"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/sms/huawei"
	"github.com/smscode/smscode/server/sms/twilio"
	"github.com/smscode/smscode/server/sms/webhook"
)

// buildProvider makes the provider a ProviderConfig describes.
func buildProvider(p config.ProviderConfig, log *slog.Logger) (sms.Provider, error) {
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
func chain(names []string, cfg config.Config, rt *Runtime, log *slog.Logger) (sms.Provider, error) {
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
	fcfg := cfg.Failover
	fcfg.TracerProvider = rt.tracer
	f, err := failover.New(providers, fcfg, reg, log)
	if err != nil {
		return nil, err
	}
	rt.chains[key] = f
	return f, nil
}
