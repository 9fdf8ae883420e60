package tracing_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"
	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/smscode/smscode/internal/buildinfo"
	"github.com/smscode/smscode/server/tracing"
)

// collector is a local OTLP receiver, over HTTP (POST /v1/traces, protobuf)
// or gRPC, that keeps what it was sent.
type collector struct {
	mu   sync.Mutex
	reqs []*collectorpb.ExportTraceServiceRequest
	collectorpb.UnimplementedTraceServiceServer
}

func (c *collector) add(r *collectorpb.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, r)
}

func (c *collector) received() []*collectorpb.ExportTraceServiceRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*collectorpb.ExportTraceServiceRequest(nil), c.reqs...)
}

// Export implements the OTLP gRPC trace service.
func (c *collector) Export(_ context.Context, r *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	c.add(r)
	return &collectorpb.ExportTraceServiceResponse{}, nil
}

// httpURL starts the HTTP receiver and returns its base URL.
func (c *collector) httpURL(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collectorpb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP/HTTP protobuf export", http.StatusBadRequest)
			return
		}
		c.add(&req)
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// grpcURL starts the gRPC receiver and returns its base URL.
func (c *collector) grpcURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	collectorpb.RegisterTraceServiceServer(s, c)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return "http://" + ln.Addr().String()
}

// clearOTelEnv unsets every OTEL_* variable for the test (restored after).
func clearOTelEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// TestSetup runs Setup under each environment, records one span and shuts
// down (which flushes), then checks what a local collector received: an
// export with smscode's resource when tracing is on, nothing when off.
func TestSetup(t *testing.T) {
	const (
		onHTTP = iota + 1
		onGRPC
	)
	tests := []struct {
		name    string
		env     map[string]string // "$HTTP" and "$GRPC" stand for the collectors' URLs
		on      int               // 0: off
		service string
		wantErr string
	}{
		{name: "nothing set: off", env: map[string]string{}},
		{name: "unrelated OTEL variable: off", env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}},
		{name: "endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "$HTTP"}, on: onHTTP, service: "smscode"},
		{name: "traces endpoint, service name", env: map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "$HTTP/v1/traces", "OTEL_SERVICE_NAME": "sms-eu"}, on: onHTTP, service: "sms-eu"},
		{name: "exporter otlp", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "$HTTP",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, on: onHTTP, service: "smscode"},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "$GRPC", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			on: onGRPC, service: "smscode"},
		{name: "traces protocol wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "$GRPC",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, on: onGRPC, service: "smscode"},
		{name: "sdk disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "$HTTP", "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "$HTTP", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "otlp only"},
		{name: "unknown protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "$HTTP", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			wantErr: "want http/protobuf or grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTelEnv(t)
			var httpC, grpcC collector
			for k, v := range tt.env {
				v = strings.Replace(v, "$HTTP", httpC.httpURL(t), 1)
				v = strings.Replace(v, "$GRPC", grpcC.grpcURL(t), 1)
				t.Setenv(k, v)
			}
			tp, shutdown, err := tracing.Setup(context.Background(), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Setup: err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			_, span := tp.Tracer("test").Start(context.Background(), "probe")
			recording := span.IsRecording()
			span.End()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}

			got := map[int][]*collectorpb.ExportTraceServiceRequest{onHTTP: httpC.received(), onGRPC: grpcC.received()}
			if tt.on == 0 {
				if _, isNoop := tp.(noop.TracerProvider); !isNoop || tracing.Enabled(tp) || recording {
					t.Errorf("off: provider %T, Enabled %v, span recording %v; want the no-op provider", tp, tracing.Enabled(tp), recording)
				}
				if n := len(got[onHTTP]) + len(got[onGRPC]); n != 0 {
					t.Errorf("off: the collectors received %d exports, want 0", n)
				}
				return
			}
			if !tracing.Enabled(tp) || !recording {
				t.Errorf("on: Enabled %v, span recording %v", tracing.Enabled(tp), recording)
			}
			reqs := got[tt.on]
			if len(reqs) != 1 || len(got[onHTTP])+len(got[onGRPC]) != 1 {
				t.Fatalf("on: exports received over the wanted protocol %d, in all %d; want 1 and 1",
					len(reqs), len(got[onHTTP])+len(got[onGRPC]))
			}
			rs := reqs[0].GetResourceSpans()
			if len(rs) != 1 || len(rs[0].GetScopeSpans()) != 1 || len(rs[0].GetScopeSpans()[0].GetSpans()) != 1 ||
				rs[0].GetScopeSpans()[0].GetSpans()[0].GetName() != "probe" {
				t.Fatalf("export = %v, want the one span \"probe\"", reqs[0])
			}
			res := map[string]string{}
			for _, kv := range rs[0].GetResource().GetAttributes() {
				res[kv.GetKey()] = kv.GetValue().GetStringValue()
			}
			if res["service.name"] != tt.service || res["service.version"] != buildinfo.Get().Version || res["service.version"] == "" {
				t.Errorf("resource service.name %q, service.version %q; want %q and %q",
					res["service.name"], res["service.version"], tt.service, buildinfo.Get().Version)
			}
		})
	}
}
