package wire_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/config"
)

// conversionConfig is reloadConfig with the learning pumping defence on
// server-wide at minSends (the volume rule out of reach) and app's YAML.
func conversionConfig(t *testing.T, minSends, app string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, path, `
dev_mode: true
secret: `+strings.Repeat("ab", 32)+`
providers: [{name: p, kind: "null"}]
limits: {number_daily: 1000000, device_per_hour: 1000000, ip_per_hour: 1000000, app_daily: 1000000}
pumping: {max: 1000000, auto_block: {enabled: true, min_sends: `+minSends+`}}
apps: [`+app+`]
`)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The learning rule's counters are in the store, which a reload keeps,
// and its settings are the generation's: three unverified sends counted
// under min_sends 5 block the prefix once a reload lowers it to 3; an
// application that a reload opts out sends again.
func TestReloadLearningPumpingRule(t *testing.T) {
	const app = `{client_id: a1, captcha: {kind: none}}`
	e := newReloadEnv(t, conversionConfig(t, "5", app))
	for range 3 {
		e.want(t, "a1", "", 200, "")
	}
	if err := e.rt.Reload(conversionConfig(t, "3", app)); err != nil {
		t.Fatal(err)
	}
	e.want(t, "a1", "", 429, "SMS.0006")
	e.want(t, "a1", "", 429, "SMS.0006")
	if err := e.rt.Reload(conversionConfig(t, "3", `{client_id: a1, captcha: {kind: none}, auto_block: {enabled: false}}`)); err != nil {
		t.Fatal(err)
	}
	e.want(t, "a1", "", 200, "")
}
