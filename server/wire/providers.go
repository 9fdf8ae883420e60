package wire

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/receipts"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/aliyun"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/sms/huawei"
	"github.com/smscode/smscode/server/sms/twilio"
	"github.com/smscode/smscode/server/sms/webhook"
)

// buildProvider makes the provider a ProviderConfig describes; with
// rc.PublicURL set it asks its gateway for delivery receipts there
// (receiptURL), unless its own block names a callback URL already.
func buildProvider(p config.ProviderConfig, rc config.ReceiptsConfig, log *slog.Logger) (sms.Provider, error) {
	callback := receiptURL(rc, p.Name)
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
		if c.ReceiptURL == "" {
			c.ReceiptURL = callback
		}
		prov, err = webhook.New(c, webhook.WithLogger(log))
	case "huawei":
		c := *p.Huawei
		c.Name = p.Name
		if c.StatusCallback == "" && callback != "" && c.ReceiptToken != "" {
			// Huawei Cloud does not sign its status reports: the token in
			// the URL is what authenticates them.
			c.StatusCallback = huawei.StatusCallback(callback, c.ReceiptToken)
		}
		prov, err = huawei.New(c, huawei.WithLogger(log))
	case "aliyun":
		c := *p.Aliyun
		c.Name = p.Name
		prov, err = aliyun.New(c, aliyun.WithLogger(log))
	case "twilio":
		c := *p.Twilio
		c.Name = p.Name
		if c.StatusCallback == "" {
			c.StatusCallback = callback
		}
		prov, err = twilio.New(c, twilio.WithLogger(log))
	default:
		err = fmt.Errorf("unknown kind %q", p.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("config: providers: %s: %w", p.Name, err)
	}
	return prov, nil
}

// receiptURL is where the gateway of the provider named name posts its
// receipts, or "" without a public URL.
func receiptURL(rc config.ReceiptsConfig, name string) string {
	if rc.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(rc.PublicURL, "/") + receipts.Path(url.PathEscape(name))
}

// receiptReader is the lookup of the receipts service: the live
// generation's provider of that name, when it takes receipts.
func (r *Runtime) receiptReader(name string) (receipts.Reader, bool) {
	g := r.live.Load()
	if g == nil {
		return nil, false
	}
	rr, ok := g.providers[name].(sms.ReceiptReader)
	if !ok || !rr.TakesReceipts() {
		return nil, false
	}
	return rr, true
}

// chain returns the failover chain for a list of provider names, making
// each distinct chain once per generation, or reusing prev's when its
// members are the same providers and the failover settings are unchanged
// (so that a reload keeps its breakers' state). Even a chain of one goes
// through the failover, for its per-provider timeout, circuit breaker and
// metrics.
func (g *generation) chain(names []string, cfg config.Config, prev *generation, log *slog.Logger, tp trace.TracerProvider) (sms.Provider, error) {
	if len(names) == 0 {
		return nil, errors.New("no SMS provider")
	}
	key := strings.Join(names, ",")
	if c, ok := g.chains[key]; ok {
		return c.provider, nil
	}
	providers := make([]sms.Provider, len(names))
	for i, n := range names {
		providers[i] = g.providers[n]
	}
	if prev != nil && reflect.DeepEqual(prev.cfg.Failover, cfg.Failover) {
		if c, ok := prev.chains[key]; ok && slices.Equal(c.members, providers) {
			g.chains[key] = c
			return c.provider, nil
		}
	}
	// Each chain's collectors carry a chain label, so that several chains
	// can share one registry. They are recorded here and registered by
	// install, once the whole generation is built: a chain that replaces
	// one of the same name can only register after the old one is gone.
	rec := &recorder{}
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"chain": key}, rec)
	fcfg := cfg.Failover
	fcfg.TracerProvider = tp
	f, err := failover.New(providers, fcfg, reg, log)
	if err != nil {
		return nil, err
	}
	g.chains[key] = &chainEntry{provider: f, members: providers, collectors: rec.collectors}
	return f, nil
}

// recorder is a prometheus.Registerer that keeps what is registered on it,
// for install to register on the real registry later.
type recorder struct{ collectors []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
}

func (r *recorder) Unregister(c prometheus.Collector) bool {
	for i, x := range r.collectors {
		if x == c {
			r.collectors = slices.Delete(r.collectors, i, i+1)
			return true
		}
	}
	return false
}
