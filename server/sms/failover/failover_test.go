package failover_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/sms/smstest"
	"github.com/smscode/smscode/server/sms/webhook"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("failover-test-secret-32-bytes!!!"))

// endpoint is a webhook receiver that verifies the signature and records
// accepted messages in g (the webhook package's fake, reduced).
func endpoint(g *smstest.Gateway) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Minute, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		if g.Behaviour() == smstest.RefusePermanently {
			http.Error(w, "unreachable number", http.StatusUnprocessableEntity)
			return
		}
		id := g.Accept(smstest.Received{To: p.To, Code: p.Code, Text: p.Text, Ref: p.ID})
		_, _ = io.WriteString(w, `{"message_id":"`+id+`"}`)
	})
}

// webhookProvider is a real webhook provider named name, in front of a
// local endpoint driven by g.
func webhookProvider(t *testing.T, name string, g *smstest.Gateway) sms.Provider {
	t.Helper()
	srv := g.Server(t, endpoint(g))
	p, err := webhook.New(webhook.Config{Name: name, URL: srv.URL, Secret: secret}, webhook.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newFailover(t *testing.T, cfg failover.Config, ps ...sms.Provider) (*failover.Failover, *prometheus.Registry, *smstest.LogBuffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	var logs smstest.LogBuffer
	f, err := failover.New(ps, cfg, reg, logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return f, reg, &logs
}

func send(t *testing.T, f *failover.Failover, timeout time.Duration) (sms.Receipt, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f.Send(ctx, smstest.Message())
}

// TestSecondaryDeliversSameMessage: whatever way the primary fails, the
// secondary delivers the same message (id and code), exactly once, and the
// primary accepted nothing.
func TestSecondaryDeliversSameMessage(t *testing.T) {
	for _, b := range []smstest.Behaviour{smstest.Hang, smstest.ServerError, smstest.Reset} {
		t.Run(b.String(), func(t *testing.T) {
			g1, g2 := smstest.NewGateway(), smstest.NewGateway()
			g1.Set(b)
			f, reg, _ := newFailover(t, failover.Config{Timeout: 100 * time.Millisecond},
				webhookProvider(t, "primary", g1), webhookProvider(t, "secondary", g2))
			start := time.Now()
			rec, err := send(t, f, 5*time.Second)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if b == smstest.Hang && time.Since(start) > 2*time.Second {
				t.Errorf("took %v; the primary's timeout is 100ms", time.Since(start))
			}
			if rec.Provider != "secondary" || rec.MessageID != "fake-1" {
				t.Errorf("Receipt = %+v", rec)
			}
			if g1.Attempts() == 0 || len(g1.Accepted()) != 0 {
				t.Errorf("primary: %d attempts, %d accepted; want >0 and 0", g1.Attempts(), len(g1.Accepted()))
			}
			got := g2.Accepted()
			if len(got) != 1 {
				t.Fatalf("secondary accepted %d, want 1", len(got))
			}
			msg := smstest.Message()
			if got[0].Ref != msg.ID || got[0].Code != msg.Code || got[0].To != msg.To {
				t.Errorf("secondary got %+v, want id %s, code %s", got[0], msg.ID, msg.Code)
			}
			wantCount(t, reg, "smscode_sms_provider_attempts_total", "primary", "temporary", 1)
			wantCount(t, reg, "smscode_sms_provider_attempts_total", "secondary", "accepted", 1)
		})
	}
}

func TestPermanentRefusalStops(t *testing.T) {
	g1, g2 := smstest.NewGateway(), smstest.NewGateway()
	g1.Set(smstest.RefusePermanently)
	f, reg, _ := newFailover(t, failover.Config{}, webhookProvider(t, "primary", g1), webhookProvider(t, "secondary", g2))
	_, err := send(t, f, 5*time.Second)
	if !errors.Is(err, sms.ErrPermanent) || errors.Is(err, failover.ErrAllFailed) {
		t.Fatalf("err = %v, want permanent and not ErrAllFailed", err)
	}
	if g2.Attempts() != 0 {
		t.Errorf("secondary called %d times, want 0", g2.Attempts())
	}
	if len(g1.Accepted())+len(g2.Accepted()) != 0 {
		t.Error("a message was accepted")
	}
	wantCount(t, reg, "smscode_sms_provider_attempts_total", "primary", "permanent", 1)
}

func TestAllFail(t *testing.T) {
	tests := []struct {
		name string
		b1   smstest.Behaviour
		b2   smstest.Behaviour
	}{
		{"both 5xx", smstest.ServerError, smstest.ServerError},
		{"hang then reset", smstest.Hang, smstest.Reset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g1, g2 := smstest.NewGateway(), smstest.NewGateway()
			g1.Set(tc.b1)
			g2.Set(tc.b2)
			f, _, _ := newFailover(t, failover.Config{Timeout: 100 * time.Millisecond},
				smstest.NewFake("primary", g1), smstest.NewFake("secondary", g2))
			_, err := send(t, f, 5*time.Second)
			if !errors.Is(err, failover.ErrAllFailed) || errors.Is(err, sms.ErrPermanent) {
				t.Fatalf("err = %v, want ErrAllFailed, not permanent", err)
			}
			if g1.Attempts() != 1 || g2.Attempts() != 1 {
				t.Errorf("attempts %d, %d; want 1, 1", g1.Attempts(), g2.Attempts())
			}
			if len(g1.Accepted())+len(g2.Accepted()) != 0 {
				t.Error("a message was accepted")
			}
		})
	}
}

func TestBreakerOpensAndRecovers(t *testing.T) {
	g1, g2 := smstest.NewGateway(), smstest.NewGateway()
	g1.Set(smstest.ServerError)
	openFor := 100 * time.Millisecond
	f, reg, logs := newFailover(t, failover.Config{FailureThreshold: 2, OpenFor: openFor},
		smstest.NewFake("primary", g1), smstest.NewFake("secondary", g2))

	for i := 0; i < 2; i++ {
		if _, err := send(t, f, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if g1.Attempts() != 2 {
		t.Fatalf("primary attempts = %d, want 2", g1.Attempts())
	}
	wantGauge(t, reg, "primary", 2)

	// Open: the primary is skipped.
	if rec, err := send(t, f, time.Second); err != nil || rec.Provider != "secondary" {
		t.Fatalf("Send = %+v, %v", rec, err)
	}
	if g1.Attempts() != 2 {
		t.Errorf("primary called while open: %d attempts", g1.Attempts())
	}
	wantCount(t, reg, "smscode_sms_provider_attempts_total", "primary", "skipped_open", 1)
	if len(g2.Accepted()) != 3 {
		t.Errorf("secondary accepted %d, want 3", len(g2.Accepted()))
	}

	// After OpenFor, one probe goes through; its success closes the breaker.
	time.Sleep(openFor + 50*time.Millisecond)
	wantGauge(t, reg, "primary", 1)
	g1.Set(smstest.Accept)
	rec, err := send(t, f, time.Second)
	if err != nil || rec.Provider != "primary" {
		t.Fatalf("Send = %+v, %v; want the primary", rec, err)
	}
	if g1.Attempts() != 3 || len(g1.Accepted()) != 1 || len(g2.Accepted()) != 3 {
		t.Errorf("primary %d attempts %d accepted, secondary %d accepted", g1.Attempts(), len(g1.Accepted()), len(g2.Accepted()))
	}
	wantGauge(t, reg, "primary", 0)
	if !strings.Contains(logs.String(), "to=open") {
		t.Errorf("breaker opening not logged: %s", logs.String())
	}
}

func TestBreakerIgnoresPermanentRefusals(t *testing.T) {
	g1, g2 := smstest.NewGateway(), smstest.NewGateway()
	g1.Set(smstest.RefusePermanently)
	f, _, _ := newFailover(t, failover.Config{FailureThreshold: 1, OpenFor: time.Minute},
		smstest.NewFake("primary", g1), smstest.NewFake("secondary", g2))
	for i := 0; i < 3; i++ {
		if _, err := send(t, f, time.Second); !errors.Is(err, sms.ErrPermanent) {
			t.Fatalf("err = %v", err)
		}
	}
	if g1.Attempts() != 3 || g2.Attempts() != 0 {
		t.Errorf("attempts %d, %d; want 3, 0", g1.Attempts(), g2.Attempts())
	}
}

// TestRequestDeadline: the request's deadline bounds the attempts; running
// out of it is not held against the provider's breaker.
func TestRequestDeadline(t *testing.T) {
	g1, g2 := smstest.NewGateway(), smstest.NewGateway()
	g1.Set(smstest.Hang)
	f, _, _ := newFailover(t, failover.Config{Timeout: 5 * time.Second, FailureThreshold: 1, OpenFor: time.Minute},
		smstest.NewFake("primary", g1), smstest.NewFake("secondary", g2))
	for i := 0; i < 2; i++ {
		start := time.Now()
		_, err := send(t, f, 100*time.Millisecond)
		if !errors.Is(err, failover.ErrAllFailed) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrAllFailed wrapping the deadline", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v, want about 100ms", d)
		}
	}
	if g1.Attempts() != 2 {
		t.Errorf("primary attempts = %d, want 2 (breaker must not count the caller's deadline)", g1.Attempts())
	}
	if g2.Attempts() != 0 {
		t.Errorf("secondary attempts = %d, want 0 (no time left)", g2.Attempts())
	}
}

func TestLogsAcceptedWithoutCodeOrNumber(t *testing.T) {
	g := smstest.NewGateway()
	f, _, logs := newFailover(t, failover.Config{}, smstest.NewFake("only", g))
	if _, err := send(t, f, time.Second); err != nil {
		t.Fatal(err)
	}
	msg := smstest.Message()
	out := logs.String()
	if !strings.Contains(out, "provider_message_id=fake-1") || !strings.Contains(out, "level=DEBUG") {
		t.Errorf("accepted send not logged with its id at debug: %s", out)
	}
	for _, s := range []string{msg.Code, msg.To, strings.TrimPrefix(msg.To, "+")} {
		if strings.Contains(out, s) {
			t.Errorf("log contains %q: %s", s, out)
		}
	}
}

func TestNew(t *testing.T) {
	g := smstest.NewGateway()
	a, b := smstest.NewFake("a", g), smstest.NewFake("b", g)
	tests := []struct {
		name string
		ps   []sms.Provider
		ok   bool
	}{
		{"none", nil, false},
		{"repeated name", []sms.Provider{a, smstest.NewFake("a", g)}, false},
		{"empty name", []sms.Provider{smstest.NewFake("", g)}, false},
		{"two", []sms.Provider{a, b}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := failover.New(tc.ps, failover.Config{}, prometheus.NewRegistry(), nil)
			if (err == nil) != tc.ok {
				t.Errorf("New = %v, want ok %v", err, tc.ok)
			}
		})
	}
	// Twice on one registry is a reload (TestChainRebuiltOnSameRegistry);
	// a clashing collector of another shape is an error.
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smscode_sms_provider_attempts_total", Help: "x"}, []string{"other"}))
	if _, err := failover.New([]sms.Provider{a}, failover.Config{}, reg, nil); err == nil {
		t.Error("New on a registry with a clashing collector succeeded")
	}
	if _, err := failover.New([]sms.Provider{a}, failover.Config{}, nil, nil); err != nil {
		t.Errorf("nil registry: %v", err)
	}
}

// deadlineProbe records whether the context of its Send had a deadline.
type deadlineProbe struct {
	inProcess   bool
	hadDeadline bool
}

func (d *deadlineProbe) Name() string    { return "probe" }
func (d *deadlineProbe) InProcess() bool { return d.inProcess }
func (d *deadlineProbe) Send(ctx context.Context, _ sms.Message) (sms.Receipt, error) {
	_, d.hadDeadline = ctx.Deadline()
	return sms.Receipt{MessageID: "1"}, nil
}

// TestAttemptTimeoutOnlyForProvidersThatWait checks that an attempt through
// a provider that does I/O runs under the per-attempt timeout, and one
// through an in-process provider (sms.Null) under the caller's context
// alone, which still ends it.
func TestAttemptTimeoutOnlyForProvidersThatWait(t *testing.T) {
	for _, tc := range []struct {
		name         string
		inProcess    bool
		wantDeadline bool
	}{
		{"provider that waits", false, true},
		{"in-process provider", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &deadlineProbe{inProcess: tc.inProcess}
			f, err := failover.New([]sms.Provider{p}, failover.Config{Timeout: time.Minute}, prometheus.NewRegistry(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Send(context.Background(), sms.Message{ID: "m1", To: "+8613800000000", Text: "x", Code: "123456"}); err != nil {
				t.Fatal(err)
			}
			if p.hadDeadline != tc.wantDeadline {
				t.Errorf("attempt had a deadline: %v, want %v", p.hadDeadline, tc.wantDeadline)
			}
		})
	}
	// The caller's deadline still ends an attempt through sms.Null.
	f, err := failover.New([]sms.Provider{sms.NewNull()}, failover.Config{}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Send(ctx, sms.Message{ID: "m2", To: "+8613800000000", Text: "x", Code: "123456"}); err == nil {
		t.Error("a send with the caller's context gone succeeded")
	}
}
