package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/config"
)

// TestMetricsAddr runs the binary's run with and without a metrics
// listener, on loopback: with one, the API listener answers GET /metrics
// with 404 REQ.0005 (the Error body) and the metrics listener with the
// metrics; without, the API serves them. Cancelling the context (a signal)
// shuts both listeners down, and run returns nil.
func TestMetricsAddr(t *testing.T) {
	t.Chdir(t.TempDir()) // dev mode keeps its generated secret in the working directory
	t.Setenv(config.EnvSecret, strings.Repeat("ab", 32))
	t.Setenv(config.EnvLogLevel, "error")
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		res, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name     string
		separate bool
	}{
		{"separate listener", true},
		{"with the API", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"-addr", "127.0.0.1:0"}
			if tc.separate {
				args = append(args, "-metrics-addr", "127.0.0.1:0")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type addrs struct{ api, metrics net.Addr }
			ready := make(chan addrs, 1)
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, args, env{listening: func(api, metrics net.Addr) { ready <- addrs{api, metrics} }})
			}()
			var a addrs
			select {
			case a = <-ready:
			case err := <-done:
				t.Fatalf("run: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("run did not start listening")
			}
			api := "http://" + a.api.String()
			if status, _ := get(t, api+"/healthz"); status != http.StatusOK {
				t.Fatalf("/healthz: %d", status)
			}
			status, body := get(t, api+"/metrics")
			if tc.separate {
				var e struct {
					Code string `json:"error_code"`
					Msg  string `json:"error_msg"`
				}
				if status != http.StatusNotFound || json.Unmarshal([]byte(body), &e) != nil || e.Code != "REQ.0005" || e.Msg == "" {
					t.Errorf("API GET /metrics: %d %q, want 404 REQ.0005", status, body)
				}
				if a.metrics == nil {
					t.Fatal("no metrics listener")
				}
				m := "http://" + a.metrics.String()
				if status, body := get(t, m+"/metrics"); status != http.StatusOK || !strings.Contains(body, "smscode_") {
					t.Errorf("metrics GET /metrics: %d, %d bytes", status, len(body))
				}
				if status, _ := get(t, m+"/healthz"); status != http.StatusNotFound {
					t.Errorf("metrics listener GET /healthz: %d, want 404 (only /metrics)", status)
				}
			} else {
				if a.metrics != nil {
					t.Errorf("a metrics listener at %v without -metrics-addr", a.metrics)
				}
				if status != http.StatusOK || !strings.Contains(body, "smscode_") {
					t.Errorf("API GET /metrics: %d, want 200 with the metrics", status)
				}
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run after shutdown: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("run did not return after the context ended")
			}
			for _, ad := range []net.Addr{a.api, a.metrics} {
				if ad == nil {
					continue
				}
				if c, err := net.DialTimeout("tcp", ad.String(), time.Second); err == nil {
					c.Close()
					t.Errorf("%v still accepts connections after shutdown", ad)
				}
			}
		})
	}
}
