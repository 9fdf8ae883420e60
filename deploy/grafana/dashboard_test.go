// The Grafana dashboard of the service (smscode-dashboard.json), checked
// here: it has the shape Grafana imports (a datasource variable, panels with
// targets on a 24-column grid), and every metric, label and label value its
// PromQL expressions name exists on a real server's /metrics after real
// requests, so that a renamed or removed metric fails this test instead of
// leaving an empty panel.
package grafana_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metricsql"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms/webhook/webhooktest"
)

const dashboardFile = "smscode-dashboard.json"

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Datasource *datasourceRef `json:"datasource"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"` // a collapsed row's
}

type dashboard struct {
	Title         string `json:"title"`
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

func load(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels flattens rows: top-level panels and those of collapsed rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// TestDashboardShape checks what Grafana needs to import the dashboard and
// show every panel on the chosen Prometheus.
func TestDashboardShape(t *testing.T) {
	d := load(t)
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 36 {
		t.Errorf("title %q, uid %q, schemaVersion %d: want both set and a schema of Grafana 9 or later", d.Title, d.UID, d.SchemaVersion)
	}
	var dsVar string
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = "${" + v.Name + "}"
		}
	}
	if dsVar == "" {
		t.Fatal("no datasource variable of Prometheus data sources in templating.list")
	}
	ids := map[int]bool{}
	type cell struct{ x, y int }
	used := map[cell]string{}
	var queries int
	for _, p := range allPanels(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
			t.Errorf("panel %q: gridPos %+v is off Grafana's 24-column grid", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := used[cell{x, y}]; ok {
					t.Errorf("panels %q and %q overlap at %d,%d", other, p.Title, x, y)
				}
				used[cell{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("panel %d (%q, %s): want a title and targets", p.ID, p.Title, p.Type)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			queries++
			ds := tg.Datasource
			if ds == nil {
				ds = p.Datasource
			}
			if ds == nil || ds.UID != dsVar || ds.Type != "prometheus" {
				t.Errorf("panel %q target %s: datasource %+v, want the %s variable", p.Title, tg.RefID, ds, dsVar)
			}
			if tg.RefID == "" || refs[tg.RefID] || strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q: target %q has no expr or a repeated refId", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
		}
	}
	t.Logf("%d panels and rows, %d queries", len(ids), queries)
}

// series is what a scrape says about one sample name (a histogram's
// _bucket, _sum and _count are three): its label names and the values
// seen for each.
type series map[string]map[string]bool

// scrape parses /metrics into sample names, and returns the family names.
func scrape(t *testing.T, url string) (map[string]series, []string) {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d, %v", res.StatusCode, err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]series{}
	var names []string
	add := func(name string, m *dto.Metric, extra ...string) {
		s := out[name]
		if s == nil {
			s = series{}
			out[name] = s
		}
		for _, l := range m.GetLabel() {
			if s[l.GetName()] == nil {
				s[l.GetName()] = map[string]bool{}
			}
			s[l.GetName()][l.GetValue()] = true
		}
		for _, e := range extra {
			if s[e] == nil {
				s[e] = map[string]bool{}
			}
		}
	}
	for name, mf := range families {
		names = append(names, name)
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", m, "le")
				add(name+"_sum", m)
				add(name+"_count", m)
			case dto.MetricType_SUMMARY:
				add(name, m, "quantile")
				add(name+"_sum", m)
				add(name+"_count", m)
			default:
				add(name, m)
			}
		}
	}
	slices.Sort(names)
	return out, names
}

// check returns what expr names that the scrape does not have: a metric, a
// label of it, or a value that an equality filter asks for. Labels of
// by (...) and on (...) must be on one of the expression's metrics.
func check(expr string, have map[string]series) []string {
	// Grafana puts a duration in place of its interval variables before
	// the query reaches Prometheus.
	expr = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m").Replace(expr)
	e, err := metricsql.Parse(expr)
	if err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	var problems []string
	if metricsql.IsLikelyInvalid(e) {
		problems = append(problems, "an implicit conversion (e.g. rate() of an aggregate)")
	}
	labels := map[string]bool{}
	var grouping []string
	metricsql.VisitAll(e, func(x metricsql.Expr) {
		switch x := x.(type) {
		case *metricsql.MetricExpr:
			for _, group := range x.LabelFilterss {
				var name string
				for _, f := range group {
					if f.Label == "__name__" {
						name = f.Value
					}
				}
				s, ok := have[name]
				if !ok {
					problems = append(problems, fmt.Sprintf("metric %q is not on /metrics", name))
					continue
				}
				for l := range s {
					labels[l] = true
				}
				for _, f := range group {
					if f.Label == "__name__" {
						continue
					}
					values, ok := s[f.Label]
					switch {
					case !ok:
						problems = append(problems, fmt.Sprintf("%s has no label %q", name, f.Label))
					case !f.IsRegexp && !f.IsNegative && !values[f.Value]:
						problems = append(problems, fmt.Sprintf("%s{%s=%q}: no such series (values %v)", name, f.Label, f.Value, keys(values)))
					}
				}
			}
		case *metricsql.RollupExpr:
			// MetricsQL, which the parser reads, is wider than PromQL: a
			// range on anything but a selector needs a subquery ([5m:]).
			if _, sel := x.Expr.(*metricsql.MetricExpr); x.Window != nil && x.Step == nil && !x.InheritStep && !sel {
				problems = append(problems, "a range on an expression that is not a selector (PromQL wants a subquery)")
			}
		case *metricsql.FuncExpr:
			// PromQL's range functions take a range vector, which
			// MetricsQL lets one leave out.
			if rangeFuncs[x.Name] {
				if r, ok := x.Args[len(x.Args)-1].(*metricsql.RollupExpr); !ok || r.Window == nil {
					problems = append(problems, x.Name+"() without a range [...]")
				}
			}
		case *metricsql.ModifierExpr:
			if x.Op == "by" || x.Op == "on" {
				grouping = append(grouping, x.Args...)
			}
		}
	})
	for _, l := range grouping {
		if !labels[l] && l != "instance" && l != "job" { // instance and job: added by Prometheus at scrape
			problems = append(problems, fmt.Sprintf("grouping by %q, a label none of its metrics has", l))
		}
	}
	return problems
}

// receiptsServer starts a server whose provider is a webhook gateway that
// takes receipts, sends one code through it and posts its delivered
// receipt, sends another that gets none and sweeps it (unknown), and
// returns the server's URL.
func receiptsServer(t *testing.T) string {
	t.Helper()
	gw := webhooktest.New(t)
	env := servertest.New(t, servertest.WithWebhookGateway(gw, "gateway"))
	var sent []webhooktest.Sent
	for _, mobile := range []string{"13800000011", "13800000012"} {
		if status, b := call(t, env, http.MethodPost, "/api/v2/sdk/sms/send", map[string]string{
			"mobile": mobile, "type": string(gen.ScenarioLogin), "captcha_token": servertest.CaptchaToken}); status != http.StatusOK {
			t.Fatalf("send: %d %s", status, b)
		}
		s, ok := gw.Last("+86" + mobile)
		if !ok {
			t.Fatal("the gateway got no message")
		}
		sent = append(sent, s)
	}
	env.Clock.Advance(2 * time.Second)
	if status, err := gw.Deliver(sent[0].Payload.ReceiptURL, sent[0].MessageID, "delivered"); err != nil || status != http.StatusNoContent {
		t.Fatalf("receipt: %d %v", status, err)
	}
	env.Clock.Advance(time.Hour)
	if n, err := env.Runtime.Receipts.Sweep(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	return env.URL
}

// merge adds b's series to a.
func merge(a, b map[string]series) {
	for name, labels := range b {
		if a[name] == nil {
			a[name] = series{}
		}
		for l, values := range labels {
			if a[name][l] == nil {
				a[name][l] = map[string]bool{}
			}
			for v := range values {
				a[name][l][v] = true
			}
		}
	}
}

// rangeFuncs are the PromQL functions the dashboard may use that take a
// range vector.
var rangeFuncs = map[string]bool{
	"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true, "deriv": true,
	"changes": true, "resets": true, "avg_over_time": true, "max_over_time": true,
	"min_over_time": true, "sum_over_time": true, "count_over_time": true, "quantile_over_time": true,
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// call posts body to path with the seed's headers and returns the status
// and body.
func call(t *testing.T, env *servertest.Env, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range seed.Headers() {
		req.Header[k] = v
	}
	if body == nil {
		req.Header.Del("Content-Type")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestDashboardMetricsExist starts the real server (servertest: the real
// wiring, a recording provider behind the real failover chain), makes a
// puzzle, a wrong and a right slider answer, a send with the captcha token,
// a verify, a refused send (cooldown) and a wrong code, scrapes /metrics,
// and checks every expression of the dashboard against it.
func TestDashboardMetricsExist(t *testing.T) {
	// The learning pumping defence is on (it is off by default) with a
	// volume of 1, so that the second unverified send to a prefix blocks it
	// and its metrics are served.
	on := true
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
		c.Pumping.AutoBlock = apps.AutoBlock{Enabled: &on, MinSends: 1, MaxRatioOfNorm: 0.5, Window: time.Hour, BlockFor: time.Hour}
	}))
	const mobile = "13800000001"
	puzzle := func() (string, int) {
		status, b := call(t, env, http.MethodGet, "/api/v2/sdk/captcha", nil)
		var p gen.CaptchaPuzzle
		if status != http.StatusOK || json.Unmarshal(b, &p) != nil {
			t.Fatalf("puzzle: %d %s", status, b)
		}
		x, err := slider.PeekAnswer(context.Background(), env.Runtime.Store, apps.Scope(servertest.ClientID, servertest.TenantID), p.Token)
		if err != nil {
			t.Fatal(err)
		}
		return p.Token, x
	}
	answer := func(token string, x int) (int, []byte) {
		return call(t, env, http.MethodPost, "/api/v2/sdk/captcha/verify", map[string]string{
			"point_json": fmt.Sprintf(`{"x":%d.0,"y":5.0}`, x), "token": token, "sender": mobile})
	}
	token, x := puzzle()
	if status, b := answer(token, x+20); status != http.StatusBadRequest {
		t.Fatalf("a wrong slider answer: %d %s, want 400", status, b)
	}
	token, x = puzzle()
	status, b := answer(token, x)
	var v gen.CaptchaVerifyResult
	if status != http.StatusOK || json.Unmarshal(b, &v) != nil {
		t.Fatalf("slider answer: %d %s", status, b)
	}
	send := func(captchaToken string) (int, []byte) {
		return call(t, env, http.MethodPost, "/api/v2/sdk/sms/send", map[string]string{
			"mobile": mobile, "type": string(gen.ScenarioLogin), "captcha_token": captchaToken})
	}
	if status, b := send(v.CaptchaToken); status != http.StatusOK {
		t.Fatalf("send: %d %s", status, b)
	}
	msg, ok := env.Outbox.Last("+86" + mobile)
	if !ok {
		t.Fatal("no message sent")
	}
	verify := func(code string) (int, []byte) {
		return call(t, env, http.MethodPost, "/api/v2/sdk/sms/verify", map[string]string{
			"mobile": mobile, "type": string(gen.ScenarioLogin), "verify_code": code})
	}
	if status, b := verify(msg.Code); status != http.StatusOK {
		t.Fatalf("verify: %d %s", status, b)
	}
	if status, b := send(servertest.CaptchaToken); status != http.StatusTooManyRequests {
		t.Fatalf("a second send within the cooldown: %d %s, want 429", status, b)
	}
	if status, b := verify("000000"); status < 400 {
		t.Fatalf("a wrong code: %d %s", status, b)
	}
	// Pumping: a code to +86170 that nobody verifies, then the prefix is
	// blocked (429 SMS.0006).
	for i, wantStatus := range []int{http.StatusOK, http.StatusTooManyRequests} {
		status, b := call(t, env, http.MethodPost, "/api/v2/sdk/sms/send", map[string]string{
			"mobile": fmt.Sprintf("1700000000%d", i), "type": string(gen.ScenarioLogin), "captcha_token": servertest.CaptchaToken})
		if status != wantStatus {
			t.Fatalf("send %d to +86170: %d %s, want %d", i, status, b, wantStatus)
		}
	}

	have, families := scrape(t, env.URL)
	// The delivery receipts' series, from a second server whose provider
	// takes receipts (the first's recording provider does not).
	rhave, rfamilies := scrape(t, receiptsServer(t))
	merge(have, rhave)
	families = append(families, rfamilies...)
	slices.Sort(families)
	families = slices.Compact(families)
	checkREADME(t, families)
	d := load(t)
	var checked int
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			checked++
			for _, problem := range check(tg.Expr, have) {
				t.Errorf("panel %q, target %s: %s\n\t%s", p.Title, tg.RefID, problem, tg.Expr)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no expressions checked")
	}

	// The check itself finds what is wrong.
	for _, bad := range []string{
		`rate(smscode_no_such_metric_total[5m])`,
		`sum by (outcome) (rate(smscode_sends_total{outcom="sent"}[5m]))`,
		`smscode_sends_total{outcome="delivered"}`,
		`sum by (nope) (rate(smscode_sends_total[5m]))`,
		`histogram_quantile(0.9, rate(smscode_sms_provider_attempt_seconds[5m]))`,
		`rate(sum(smscode_sends_total)[5m])`,
		`rate(smscode_sends_total)`,
		`rate(sum(smscode_sends_total))`,
		`sum(rate(smscode_sends_total[5m])`,
	} {
		if len(check(bad, have)) == 0 {
			t.Errorf("check(%s) found nothing wrong", bad)
		}
	}
}

// checkREADME keeps README's metrics table equal to what the server
// serves: every smscode_ family on /metrics has a row, and every smscode_
// name in the table's first column is served.
func checkREADME(t *testing.T, families []string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n## Metrics and the Grafana dashboard\n")
	if !ok {
		t.Fatal("README.md has no section Metrics and the Grafana dashboard")
	}
	section, _, _ := strings.Cut(after, "\n## ")
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `smscode_") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, f := range strings.Split(first, ",") {
			documented[strings.Trim(strings.TrimSpace(f), "`")] = true
		}
	}
	served := map[string]bool{}
	for _, f := range families {
		if strings.HasPrefix(f, "smscode_") {
			served[f] = true
			if !documented[f] {
				t.Errorf("README's metrics table lacks %s, which /metrics serves", f)
			}
		}
	}
	for f := range documented {
		if !served[f] {
			t.Errorf("README's metrics table names %s, which /metrics does not serve", f)
		}
	}
}
