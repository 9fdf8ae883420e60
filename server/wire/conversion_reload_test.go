package wire_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/wire"
)

// conversionConfig is a dev-mode configuration like reloadConfig's, with
// one provider and the learning pumping defence on server-wide at minSends
// (the volume rule out of reach), and app's YAML.
func conversionConfig(t *testing.T, minSends, app string) config.Config {
	t.Helper()
	return loadYAML(t, `
dev_mode: true
secret: `+strings.Repeat("ab", 32)+`
providers: [{name: p, kind: "null"}]
limits: {number_daily: 1000000, device_per_hour: 1000000, ip_per_hour: 1000000, app_daily: 1000000}
pumping: {max: 1000000, auto_block: {enabled: true, min_sends: `+minSends+`}}
apps: [`+app+`]
`)
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

// With the learning rule on, a send has a store.conversion span under the
// server span: counted while the prefix converts, refused (limit
// prefix_conversion, SMS.0006) once it is blocked.
func TestTracedLearningRule(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg := conversionConfig(t, "1", `{client_id: a1, captcha: {kind: none}}`)
	rt, err := wire.Build(cfg, slog.New(slog.DiscardHandler), wire.Overrides{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	srv := httptest.NewServer(rt.Server.Handler())
	t.Cleanup(srv.Close)
	e := &reloadEnv{rt: rt, url: srv.URL}
	e.want(t, "a1", "", 200, "")
	e.want(t, "a1", "", 429, "SMS.0006")

	var got []map[attribute.Key]string
	servers := map[trace.SpanID]bool{}
	for _, s := range exp.GetSpans() {
		if s.SpanKind == trace.SpanKindServer {
			servers[s.SpanContext.SpanID()] = true
		}
	}
	for _, s := range exp.GetSpans() {
		if s.Name != "store.conversion" {
			continue
		}
		if !servers[s.Parent.SpanID()] {
			t.Errorf("store.conversion's parent %s is not a server span", s.Parent.SpanID())
		}
		got = append(got, spanAttrs(s))
	}
	want := []map[attribute.Key]string{
		{"smscode.outcome": "counted"},
		{"smscode.outcome": "refused", "smscode.limit": "prefix_conversion", "smscode.error_code": "SMS.0006"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d store.conversion spans, want %d: %v", len(got), len(want), got)
	}
	for i, attrs := range want {
		for k, v := range attrs {
			if got[i][k] != v {
				t.Errorf("span %d: %s = %q, want %q", i, k, got[i][k], v)
			}
		}
	}
}
