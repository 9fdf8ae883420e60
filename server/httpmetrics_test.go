package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/internal/metricstest"
	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/metrics"
)

// scrape is the server's /metrics page as served (the text the handler
// writes, parsed), not its registry: the test checks what a scraper sees.
func scrape(t *testing.T, ts *testServer) prometheus.Gatherer {
	t.Helper()
	r := do(t, ts, http.MethodGet, "/metrics", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("/metrics: %d", r.status)
	}
	return metricstest.Page(t, r.body)
}

// requestCount is smscode_http_requests_total for the labels.
func requestCount(t *testing.T, page prometheus.Gatherer, code, method, url string) float64 {
	t.Helper()
	return metricstest.Value(t, page, "smscode_http_requests_total", map[string]string{"code": code, "method": method, "url": url})
}

// TestHTTPMetrics checks the RED metrics of real requests against the real
// server: counted by route template, method and status; made-up paths,
// methods and Host headers do not become label values.
func TestHTTPMetrics(t *testing.T) {
	ts := start(t, server.Config{DevMode: true}, newFake())
	hostile := func(h http.Header) http.Header { h.Set("Host", "evil.example"); return h }
	tests := []struct {
		name, method, path string
		header             http.Header
		body               string
		// want: the labels the request is counted under.
		code, wantMethod, url string
	}{
		{"accepted send", http.MethodPost, "/api/v2/sdk/sms/send", seedHeaders(), seedBody, "200", "POST", "/api/v2/sdk/sms/send"},
		{"refused send", http.MethodPost, "/api/v2/sdk/sms/send", seedHeaders(), sendJSON(with("mobile", "1380000111")), "400", "POST", "/api/v2/sdk/sms/send"},
		{"number in the path", http.MethodPost, "/api/v2/sdk/sms/send/13812345678", seedHeaders(), seedBody, "404", "POST", "unmatched"},
		{"wrong method", http.MethodGet, "/api/v2/sdk/sms/send", nil, "", "405", "GET", "/api/v2/sdk/sms/send"},
		{"made-up method", "BREW", "/healthz", nil, "", "405", "unknown", "/healthz"},
		{"health probe", http.MethodGet, "/healthz", nil, "", "200", "GET", "/healthz"},
		{"hostile Host", http.MethodGet, "/healthz", hostile(http.Header{}), "", "200", "GET", "/healthz"},
	}
	for _, tc := range tests {
		r := do(t, ts, tc.method, tc.path, tc.header, strings.NewReader(tc.body))
		if fmt.Sprint(r.status) != tc.code {
			t.Fatalf("%s: status %d, want %s", tc.name, r.status, tc.code)
		}
	}
	page := scrape(t, ts)
	want := map[[3]string]float64{}
	for _, tc := range tests {
		want[[3]string{tc.code, tc.wantMethod, tc.url}]++
	}
	for k, n := range want {
		if got := requestCount(t, page, k[0], k[1], k[2]); got != n {
			t.Errorf("smscode_http_requests_total{code=%q,method=%q,url=%q} = %v, want %v", k[0], k[1], k[2], got, n)
		}
	}
	// Every request has a latency sample in the same series, with the
	// buckets from sub-millisecond to 10 s.
	for _, m := range metricstest.Samples(t, page, "smscode_http_request_duration_seconds", nil) {
		l := metricstest.Labels(m)
		if want := requestCount(t, page, l["code"], l["method"], l["url"]); float64(m.GetHistogram().GetSampleCount()) != want {
			t.Errorf("latency %v: %d samples, want %v", l, m.GetHistogram().GetSampleCount(), want)
		}
		// 14 buckets and +Inf, as the text format has it.
		if b := m.GetHistogram().GetBucket(); len(b) != 15 || b[0].GetUpperBound() != 0.0005 || b[13].GetUpperBound() != 10 {
			t.Errorf("latency buckets %v", b)
		}
	}
	// The scrape itself is in flight while /metrics is written.
	if g := metricstest.Samples(t, page, "smscode_http_requests_in_flight", nil); len(g) != 1 || g[0].GetGauge().GetValue() != 1 {
		t.Errorf("smscode_http_requests_in_flight = %v during the scrape, want 1", g)
	}
	for _, name := range []string{"smscode_http_requests_total", "smscode_http_request_size_bytes", "smscode_http_response_size_bytes"} {
		for _, m := range metricstest.Samples(t, page, name, nil) {
			for k, v := range metricstest.Labels(m) {
				if k == "host" && v != "" {
					t.Errorf("%s has host=%q: the Host header is the client's", name, v)
				}
			}
		}
	}

	// A thousand made-up paths and methods are one series each.
	before := len(metricstest.Samples(t, page, "smscode_http_requests_total", nil))
	for i := range 1000 {
		do(t, ts, fmt.Sprintf("M%d", i), fmt.Sprintf("/x/%d", i), nil, nil)
	}
	page = scrape(t, ts)
	// +2: {404 or 405, unknown, unmatched} for the made-up requests, and
	// the first scrape's own GET /metrics.
	if after := len(metricstest.Samples(t, page, "smscode_http_requests_total", nil)); after > before+2 {
		t.Errorf("smscode_http_requests_total: %d series after 1000 made-up requests, %d before", after, before)
	}
	if got := requestCount(t, page, "404", "unknown", "unmatched") + requestCount(t, page, "405", "unknown", "unmatched"); got != 1000 {
		t.Errorf("made-up requests counted %v times under unknown/unmatched, want 1000", got)
	}
	r := do(t, ts, http.MethodGet, "/metrics", nil, nil)
	for _, leak := range []string{"13812345678", "evil.example", "BREW", "M999", "/x/"} {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Errorf("/metrics holds %q", leak)
		}
	}
}

// A server rebuilt on the same Metrics (a config reload) registers nothing
// twice and counts into the same series.
func TestHTTPMetricsSurviveRebuild(t *testing.T) {
	m := metrics.New()
	for i := range 2 {
		srv, err := server.New(server.Config{}, newFake(), nil, m)
		if err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
		hs := httptest.NewServer(srv.Handler())
		res, err := http.Get(hs.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		hs.Close()
	}
	ts := &testServer{Server: httptest.NewServer(echoOf(t, m)), m: m}
	t.Cleanup(ts.Close)
	if got := requestCount(t, scrape(t, ts), "200", "GET", "/healthz"); got != 2 {
		t.Errorf("GET /healthz counted %v times over two builds, want 2", got)
	}
}

// echoOf is a third server on m, to scrape it.
func echoOf(t *testing.T, m *metrics.Metrics) http.Handler {
	t.Helper()
	srv, err := server.New(server.Config{}, newFake(), nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler()
}
