package failover_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/sms/smstest"
)

// Each attempt is a span, a child of the caller's, with the provider, the
// attempt's number and its outcome, and nothing of the message.
func TestAttemptSpans(t *testing.T) {
	type attempt struct {
		provider string
		outcome  string
	}
	tests := []struct {
		name    string
		primary smstest.Behaviour
		open    bool // the primary's breaker opened by earlier failures
		want    []attempt
	}{
		{"first accepts", smstest.Accept, false, []attempt{{"primary", "accepted"}}},
		{"temporary, then the secondary", smstest.ServerError, false, []attempt{{"primary", "temporary"}, {"secondary", "accepted"}}},
		{"permanent stops", smstest.RefusePermanently, false, []attempt{{"primary", "permanent"}}},
		{"open breaker skipped", smstest.ServerError, true, []attempt{{"primary", "skipped_open"}, {"secondary", "accepted"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			defer tp.Shutdown(context.Background())
			g1, g2 := smstest.NewGateway(), smstest.NewGateway()
			g1.Set(tt.primary)
			f, _, _ := newFailover(t, failover.Config{FailureThreshold: 1, OpenFor: time.Hour, TracerProvider: tp},
				smstest.NewFake("primary", g1), smstest.NewFake("secondary", g2))
			if tt.open {
				_, _ = f.Send(context.Background(), smstest.Message()) // opens the primary's breaker
				exp.Reset()
			}
			ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
			_, _ = f.Send(ctx, smstest.Message())
			parent.End()

			var got []attempt
			msg := smstest.Message()
			for _, s := range exp.GetSpans() {
				if s.Name == "request" {
					continue
				}
				a := map[attribute.Key]attribute.Value{}
				for _, kv := range s.Attributes {
					a[kv.Key] = kv.Value
					if v := kv.Value.String(); strings.Contains(v, msg.Code) || strings.Contains(v, msg.To[3:]) || strings.Contains(v, msg.ID) {
						t.Errorf("attribute %s = %q holds the message", kv.Key, v)
					}
				}
				if s.Name != failover.SpanAttempt || s.Parent.SpanID() != parent.SpanContext().SpanID() {
					t.Errorf("span %q, parent %v; want %q under the request", s.Name, s.Parent.SpanID(), failover.SpanAttempt)
				}
				if n := a[failover.AttrAttempt].AsInt64(); n != int64(len(got)+1) {
					t.Errorf("attempt number %d, want %d", n, len(got)+1)
				}
				outcome := a[failover.AttrOutcome].AsString()
				wantStatus := sdktrace.Status{Code: codes.Error, Description: outcome}
				if outcome == failover.OutcomeAccepted {
					wantStatus = sdktrace.Status{}
				}
				if s.Status != wantStatus {
					t.Errorf("%s: status %v, want %v", outcome, s.Status, wantStatus)
				}
				got = append(got, attempt{a[failover.AttrProvider].AsString(), outcome})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("attempts %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("attempts %v, want %v", got, tt.want)
				}
			}
		})
	}
}
