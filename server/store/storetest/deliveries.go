package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// The deliveries' cases run as one subtest, in order: ExpireDeliveries
// settles every due record of the store, and the Redis harness shares one
// store between subtests.
func init() {
	cases = append(cases, testCase{"Deliveries", testDeliveries})
}

func testDeliveries(t *testing.T, e *env) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *env, string)
	}{
		{"SettleOnce", testSettleOnce},
		{"ExpireDue", testExpireDue},
		{"TTL", testDeliveryTTL},
		{"ConcurrentSettle", testConcurrentSettle},
		{"Replace", testDeliveryReplace},
		{"Invalid", testDeliveryInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The subtest's own t for its failures; the harness knows the
			// store (and its clock) by the parent's.
			sub := *e
			sub.t = t
			sub.h.Advance = func(_ *testing.T, d time.Duration) { e.h.Advance(e.t, d) }
			c.fn(t, &sub, e.tag+"."+c.name)
		})
	}
}

func accepted(provider, id string, sentAt time.Time) store.Delivery {
	return store.Delivery{Provider: provider, MessageID: id, ClientID: "app", Scenario: "LOGIN",
		CallingCode: "86", SentAt: sentAt, Status: store.DeliveryAccepted}
}

func (e *env) track(d store.Delivery, ttl, wait time.Duration) {
	e.t.Helper()
	if err := e.s.TrackDelivery(context.Background(), d, ttl, wait); err != nil {
		e.t.Fatalf("TrackDelivery: %v", err)
	}
}

func (e *env) settle(provider, id string, st store.DeliveryStatus, at time.Time) (store.Delivery, store.SettleOutcome) {
	e.t.Helper()
	d, o, err := e.s.SettleDelivery(context.Background(), provider, id, st, at)
	if err != nil {
		e.t.Fatalf("SettleDelivery: %v", err)
	}
	return d, o
}

// mine is what ExpireDeliveries returned for provider.
func (e *env) expire(provider string, now time.Time, max int) []store.Delivery {
	e.t.Helper()
	all, err := e.s.ExpireDeliveries(context.Background(), now, max)
	if err != nil {
		e.t.Fatalf("ExpireDeliveries: %v", err)
	}
	var mine []store.Delivery
	for _, d := range all {
		if d.Provider == provider {
			mine = append(mine, d)
		}
	}
	return mine
}

func testSettleOnce(t *testing.T, e *env, p string) {
	sent := time.Now().Truncate(time.Millisecond)
	e.track(accepted(p, "m1", sent), time.Minute, 30*time.Second)
	at := sent.Add(1500 * time.Millisecond)
	d, o := e.settle(p, "m1", store.DeliveryDelivered, at)
	want := accepted(p, "m1", sent)
	want.Status, want.SettledAt = store.DeliveryDelivered, at
	if o != store.Settled || !d.SentAt.Equal(want.SentAt) || !d.SettledAt.Equal(at) {
		t.Fatalf("first settle = %+v, %v; want %+v, Settled", d, o, want)
	}
	d.SentAt, d.SettledAt, want.SentAt, want.SettledAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if d != want {
		t.Errorf("settled record %+v, want %+v", d, want)
	}
	if _, o := e.settle(p, "m1", store.DeliveryDelivered, at); o != store.SettleDuplicate {
		t.Errorf("replay: outcome %v, want SettleDuplicate", o)
	}
	if d, o := e.settle(p, "m1", store.DeliveryFailed, at); o != store.SettleLate || d.Status != store.DeliveryDelivered {
		t.Errorf("late failed: %v, status %q; want SettleLate, delivered kept", o, d.Status)
	}
	if _, o := e.settle(p, "never-sent", store.DeliveryDelivered, at); o != store.SettleUnknownID {
		t.Errorf("unknown id: outcome %v, want SettleUnknownID", o)
	}
	if _, o := e.settle(p+"x", "m1", store.DeliveryDelivered, at); o != store.SettleUnknownID {
		t.Errorf("same id, other provider: outcome %v, want SettleUnknownID", o)
	}
	// A settled delivery is never counted unknown.
	if got := e.expire(p, sent.Add(time.Hour), 100); len(got) != 0 {
		t.Errorf("ExpireDeliveries returned settled records %+v", got)
	}
}

func testExpireDue(t *testing.T, e *env, p string) {
	now := time.Now().Truncate(time.Millisecond)
	wait := time.Second
	for _, id := range []string{"due1", "due2", "due3"} {
		e.track(accepted(p, id, now.Add(-2*wait)), time.Minute, wait)
	}
	e.track(accepted(p, "settled", now.Add(-2*wait)), time.Minute, wait)
	e.settle(p, "settled", store.DeliveryFailed, now)
	e.track(accepted(p, "waiting", now), time.Minute, wait)

	first := e.expire(p, now, 2)
	second := e.expire(p, now, 2)
	if len(first) != 2 || len(second) != 1 {
		t.Fatalf("ExpireDeliveries(max 2) twice returned %d then %d, want 2 then 1", len(first), len(second))
	}
	for _, d := range append(first, second...) {
		if d.Status != store.DeliveryUnknown || d.ClientID != "app" || d.CallingCode != "86" || !d.SettledAt.Equal(now) {
			t.Errorf("expired record %+v, want unknown with its fields, settled at %v", d, now)
		}
		if d.MessageID == "settled" || d.MessageID == "waiting" {
			t.Errorf("expired %q, which is not due", d.MessageID)
		}
	}
	if got := e.expire(p, now, 10); len(got) != 0 {
		t.Errorf("a third ExpireDeliveries returned %+v, want none", got)
	}
	if _, o := e.settle(p, "due1", store.DeliveryDelivered, now); o != store.SettleLate {
		t.Errorf("receipt after unknown: outcome %v, want SettleLate", o)
	}
	if _, o := e.settle(p, "waiting", store.DeliveryDelivered, now); o != store.Settled {
		t.Errorf("receipt within the wait: outcome %v, want Settled", o)
	}
}

func testDeliveryTTL(t *testing.T, e *env, p string) {
	e.track(accepted(p, "m", time.Now()), window, window)
	e.advance(window + past)
	if _, o := e.settle(p, "m", store.DeliveryDelivered, time.Now()); o != store.SettleUnknownID {
		t.Errorf("receipt after the ttl: outcome %v, want SettleUnknownID", o)
	}
}

func testConcurrentSettle(t *testing.T, e *env, p string) {
	e.track(accepted(p, "m", time.Now()), time.Minute, time.Minute)
	const n = 8
	var wg sync.WaitGroup
	outcomes := make(chan store.SettleOutcome, n)
	for range n {
		wg.Go(func() {
			_, o, err := e.s.SettleDelivery(context.Background(), p, "m", store.DeliveryDelivered, time.Now())
			if err != nil {
				t.Error(err)
			}
			outcomes <- o
		})
	}
	wg.Wait()
	close(outcomes)
	settled := 0
	for o := range outcomes {
		if o == store.Settled {
			settled++
		}
	}
	if settled != 1 {
		t.Errorf("%d of %d concurrent receipts settled the delivery, want exactly 1", settled, n)
	}
}

func testDeliveryReplace(t *testing.T, e *env, p string) {
	now := time.Now()
	e.track(accepted(p, "m", now), time.Minute, time.Minute)
	e.settle(p, "m", store.DeliveryDelivered, now)
	d := accepted(p, "m", now)
	d.Scenario = "REGISTER"
	e.track(d, time.Minute, time.Minute)
	if got, o := e.settle(p, "m", store.DeliveryFailed, now); o != store.Settled || got.Scenario != "REGISTER" {
		t.Errorf("settle of a replaced record: %v, scenario %q; want Settled, REGISTER", o, got.Scenario)
	}
}

func testDeliveryInvalid(t *testing.T, e *env, p string) {
	ctx, now := context.Background(), time.Now()
	long := string(make([]byte, store.MaxDeliveryField+1))
	bad := []struct {
		name      string
		d         store.Delivery
		ttl, wait time.Duration
	}{
		{"no provider", accepted("", "m", now), time.Minute, time.Second},
		{"no id", accepted(p, "", now), time.Minute, time.Second},
		{"long id", accepted(p, long, now), time.Minute, time.Second},
		{"not accepted", store.Delivery{Provider: p, MessageID: "m", Status: store.DeliveryDelivered}, time.Minute, time.Second},
		{"wait over ttl", accepted(p, "m", now), time.Second, time.Minute},
		{"no wait", accepted(p, "m", now), time.Minute, 0},
	}
	for _, b := range bad {
		if err := e.s.TrackDelivery(ctx, b.d, b.ttl, b.wait); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("TrackDelivery %s: %v, want ErrInvalid", b.name, err)
		}
	}
	for _, st := range []store.DeliveryStatus{store.DeliveryAccepted, "", "DELIVRD"} {
		if _, _, err := e.s.SettleDelivery(ctx, p, "m", st, now); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SettleDelivery to %q: %v, want ErrInvalid", st, err)
		}
	}
	if _, _, err := e.s.SettleDelivery(ctx, p, long, store.DeliveryDelivered, now); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("SettleDelivery of a long id: %v, want ErrInvalid", err)
	}
}
