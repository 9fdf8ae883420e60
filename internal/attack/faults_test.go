package attack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/smstest"
)

// chainTimeout is startChain's per-attempt failover timeout.
const chainTimeout = 200 * time.Millisecond

// A failing SMS provider, through the whole pipeline and the failover
// chain primary → secondary: whatever way the primary fails for a while
// (slowly, by hanging, with a server error, by resetting the connection),
// the secondary delivers the same message and the send is a 200 with
// exactly one SMS; a provider slower than the timeout is given up and
// never delivers late; when both fail the answer is 503 SMS.0007 within
// the timeouts, nothing was delivered, the code is not valid and the
// cooldown was not charged; a permanent refusal is 400 SMS.0008 and the
// secondary is not asked.
func TestProviderFaultsThroughFailover(t *testing.T) {
	tests := []struct {
		name string
		// primary and secondary are the gateways' behaviours; slowBy,
		// when set, delays the primary before its gateway sees the message.
		primary, secondary smstest.Behaviour
		slowBy             time.Duration
		status             int
		code               gen.ErrorCode
		// by is the gateway that delivers: "primary", "secondary" or "".
		by string
	}{
		{name: "primary accepts", primary: smstest.Accept, status: http.StatusOK, by: "primary"},
		{name: "primary slow within the timeout", primary: smstest.Accept, slowBy: chainTimeout / 4, status: http.StatusOK, by: "primary"},
		{name: "primary slower than the timeout", primary: smstest.Accept, slowBy: 3 * chainTimeout, status: http.StatusOK, by: "secondary"},
		{name: "primary hangs", primary: smstest.Hang, status: http.StatusOK, by: "secondary"},
		{name: "primary 5xx", primary: smstest.ServerError, status: http.StatusOK, by: "secondary"},
		{name: "primary resets", primary: smstest.Reset, status: http.StatusOK, by: "secondary"},
		{name: "primary refuses for good", primary: smstest.RefusePermanently,
			status: http.StatusBadRequest, code: gen.ErrorCodeProviderRejected},
		{name: "both hang", primary: smstest.Hang, secondary: smstest.Hang,
			status: http.StatusServiceUnavailable, code: gen.ErrorCodeProviderUnavailable},
		{name: "both fail", primary: smstest.ServerError, secondary: smstest.Reset,
			status: http.StatusServiceUnavailable, code: gen.ErrorCodeProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g1, g2 := smstest.NewGateway(), smstest.NewGateway()
			g1.Set(tt.primary)
			g2.Set(tt.secondary)
			var p1 sms.Provider = smstest.NewFake("primary", g1)
			if tt.slowBy > 0 {
				p1 = slow{Provider: p1, delay: tt.slowBy}
			}
			rec := newRecorder(p1)
			tg := startChain(t, rec, smstest.NewFake("secondary", g2), nil)

			began := time.Now()
			r := tg.send(t, victim, bind, nil)
			took := time.Since(began)
			want(t, r, tt.status, tt.code)
			// Two attempts at most, each bounded by the timeout.
			if limit := 2*chainTimeout + time.Second; took > limit {
				t.Errorf("the send took %v, more than %v", took, limit)
			}
			asked := <-rec.asked

			// A late primary must not deliver after it was given up.
			if tt.slowBy > chainTimeout {
				time.Sleep(tt.slowBy)
			}
			accepted := map[string][]smstest.Received{"primary": g1.Accepted(), "secondary": g2.Accepted()}
			for name, got := range accepted {
				n := 0
				if name == tt.by {
					n = 1
				}
				if len(got) != n {
					t.Fatalf("%s delivered %d SMS, want %d", name, len(got), n)
				}
			}
			if tt.primary == smstest.RefusePermanently && g2.Attempts() != 0 {
				t.Errorf("the secondary was asked %d times after a permanent refusal", g2.Attempts())
			}
			if tt.by != "" {
				// The same message, and the code works.
				got := accepted[tt.by][0]
				if got.Ref != asked.ID || got.Code != asked.Code || got.To != victimE164 {
					t.Errorf("%s delivered %+v, want message %s with code %s", tt.by, got, asked.ID, asked.Code)
				}
				want(t, tg.verify(t, victim, bind, asked.Code, nil), http.StatusOK, "")
				return
			}
			// Nothing delivered: the code that was tried is not valid...
			want(t, tg.verify(t, victim, bind, asked.Code, nil), http.StatusBadRequest, gen.ErrorCodeCodeExpired)
			// ...and the cooldown was not charged: once a provider works,
			// the retry goes through at once.
			g1.Set(smstest.Accept)
			g2.Set(smstest.Accept)
			want(t, tg.send(t, victim, bind, nil), http.StatusOK, "")
		})
	}
}

// After FailureThreshold (3) consecutive temporary failures the primary's
// breaker opens: later sends go straight to the secondary, without trying
// the primary or waiting for it.
func TestBreakerOpensOnFailingPrimary(t *testing.T) {
	g1, g2 := smstest.NewGateway(), smstest.NewGateway()
	g1.Set(smstest.Hang)
	tg := startChain(t, smstest.NewFake("primary", g1), smstest.NewFake("secondary", g2), nil)
	const threshold, sends = 3, 8
	for i := 0; i < sends; i++ {
		began := time.Now()
		want(t, tg.send(t, fmt.Sprintf("1380000000%d", i), login,
			map[string]string{"X-device-fingerprint": fmt.Sprintf("d%d", i)}), http.StatusOK, "")
		took := time.Since(began)
		if i >= threshold && took >= chainTimeout {
			t.Errorf("send %d took %v: it waited for the primary, whose breaker is open", i, took)
		}
	}
	if n := g1.Attempts(); n != threshold {
		t.Errorf("the primary was tried %d times, want %d (then skipped)", n, threshold)
	}
	if n := len(g2.Accepted()); n != sends {
		t.Errorf("the secondary delivered %d, want %d", n, sends)
	}
}

// Under load, with the provider failing every third message: every 200
// has exactly one SMS for its number, every error (503 SMS.0007) has none,
// no number gets two, and every request is answered.
func TestSendsUnderLoadWithFailingProvider(t *testing.T) {
	const n = 100
	tg := start(t, servertest.WithConfig(func(c *config.Config) {
		c.Limits.IPPerHour = 10 * n
		c.Pumping.Disabled = true
		// Failures are every third message, never consecutive enough to
		// open the breaker; a threshold this high keeps it closed even
		// if the goroutines' order puts several failures in a row.
		c.Failover.FailureThreshold = n
	}))
	var seq atomic.Int64
	tg.Outbox.SetFailure(func(sms.Message) error {
		if seq.Add(1)%3 == 0 {
			return errors.New("gateway overloaded")
		}
		return nil
	})

	statuses, wait := sendConcurrently(tg, n, "load")
	wait()

	perNumber := map[string]int{}
	for _, m := range tg.Outbox.Messages() {
		perNumber[m.To]++
	}
	ok, failed := 0, 0
	ids := map[string]bool{}
	for i, r := range statuses {
		checkErrorBody(t, r)
		id := r.Header.Get("X-Request-Id")
		if id == "" || ids[id] {
			t.Errorf("request %d: X-Request-Id %q missing or repeated", i, id)
		}
		ids[id] = true
		got := perNumber["+86"+loadNumber(i)]
		switch {
		case r.Status == http.StatusOK && got == 1:
			ok++
		case r.Status == http.StatusServiceUnavailable && r.Code == gen.ErrorCodeProviderUnavailable && got == 0:
			failed++
		default:
			t.Errorf("request %d: %s with %d SMS", i, r, got)
		}
	}
	// Exactly the attempts 3, 6, ..., 99 failed.
	if ok != n-n/3 || failed != n/3 || int(tg.Outbox.Count()) != ok || len(perNumber) != ok {
		t.Errorf("%d sent, %d failed, %d SMS to %d numbers; want %d, %d", ok, failed, tg.Outbox.Count(), len(perNumber), n-n/3, n/3)
	}
}

// A graceful shutdown under load loses no request: the sends in flight
// when Shutdown is called (their provider still working) are all answered
// 200 with their one SMS, and the listener takes no new connection.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	const n = 30
	gate := make(chan struct{})
	var inFlight atomic.Int64
	tg := start(t, servertest.WithConfig(func(c *config.Config) { c.Limits.IPPerHour = 10 * n }))
	tg.Outbox.SetFailure(func(sms.Message) error {
		// Every message waits at the provider until all n are there, so
		// that Shutdown surely finds n requests in flight.
		inFlight.Add(1)
		<-gate
		return nil
	})

	statuses, wait := sendConcurrently(tg, n, "shutdown")
	deadline := time.Now().Add(10 * time.Second)
	for inFlight.Load() < n {
		if time.Now().After(deadline) {
			close(gate)
			t.Fatalf("only %d of %d sends reached the provider", inFlight.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- tg.HTTP.Shutdown(ctx)
	}()
	// Shutdown closes the listener at once, then waits for the requests.
	time.Sleep(50 * time.Millisecond)
	if _, err := client.Get(tg.URL + "/healthz"); err == nil {
		t.Error("a new request was served after Shutdown began")
	}
	close(gate)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wait()
	for i, r := range statuses {
		if r.Status != http.StatusOK {
			t.Errorf("request %d in flight at shutdown: %s", i, r)
		}
	}
	if got := tg.Outbox.Count(); got != n {
		t.Errorf("%d SMS, want %d", got, n)
	}
}

// loadNumber is a distinct mainland mobile number for request i.
func loadNumber(i int) string { return fmt.Sprintf("139%08d", i) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sendConcurrently starts n sends at once, to loadNumber(0..n-1), each from a
// device of its own (tag-i); wait returns once all are answered, and only
// then may statuses be read. A transport error is recorded as status -1.
func sendConcurrently(tg *target, n int, tag string) (statuses []reply, wait func()) {
	statuses = make([]reply, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("%s-%d", tag, i)})
			r, err := tg.try(sendPath, h, mustJSON(sendBody(loadNumber(i), login)))
			if err != nil {
				r = reply{Status: -1, Body: []byte(err.Error())}
			}
			statuses[i] = r
		}()
	}
	return statuses, wg.Wait
}
