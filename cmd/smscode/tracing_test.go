package main

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/smscode/smscode/server/config"
)

// TestTracingExportsAtExit runs the binary's run with
// OTEL_EXPORTER_OTLP_ENDPOINT at a local OTLP/HTTP collector: a request's
// server span, in the caller's trace, reaches the collector with service.name
// smscode by the time run has returned (the exit flushes the last spans).
func TestTracingExportsAtExit(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv(config.EnvSecret, strings.Repeat("ab", 32))
	t.Setenv(config.EnvLogLevel, "error")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	var mu sync.Mutex
	var got []*collectorpb.ExportTraceServiceRequest
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collectorpb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, &req)
		mu.Unlock()
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, env{listening: func(api, _ net.Addr) { ready <- api }})
	}()
	var api net.Addr
	select {
	case api = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start listening")
	}
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodGet, "http://"+api.String()+"/healthz", nil)
	req.Header.Set("traceparent", "00-"+trace+"-00f067aa0ba902b7-01")
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return")
	}

	mu.Lock()
	defer mu.Unlock()
	var found bool
	for _, r := range got {
		for _, rs := range r.GetResourceSpans() {
			service := ""
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					if s.GetName() == "GET /healthz" && service == "smscode" && hex.EncodeToString(s.GetTraceId()) == trace {
						found = true
					}
				}
			}
		}
	}
	if !found {
		t.Errorf("the collector got %d exports, none with the span GET /healthz of service smscode in trace %s", len(got), trace)
	}
}
