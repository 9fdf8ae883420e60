package memstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// Deliveries are capped at MaxEntries (then ErrFull, which callers treat
// as the store being unavailable), a replacement is not a new record, and
// records whose ttl ended are dropped, with their heap entries, so that
// room comes back.
func TestDeliveriesBounded(t *testing.T) {
	c := &clock{now: time.Unix(1700000000, 0)}
	s := New(Config{Now: c.Now, SweepInterval: -1, MaxEntries: 3})
	ctx := context.Background()
	d := func(id string) store.Delivery {
		return store.Delivery{Provider: "p", MessageID: id, SentAt: c.Now(), Status: store.DeliveryAccepted}
	}
	for i := range 3 {
		if err := s.TrackDelivery(ctx, d(fmt.Sprint(i)), time.Minute, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	err := s.TrackDelivery(ctx, d("3"), time.Minute, time.Second)
	if !errors.Is(err, store.ErrFull) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a fourth record in a store of 3: %v, want ErrFull and ErrUnavailable", err)
	}
	if err := s.TrackDelivery(ctx, d("0"), time.Minute, time.Second); err != nil {
		t.Errorf("replacing a record in a full store: %v", err)
	}
	c.Advance(time.Minute + time.Millisecond)
	if err := s.TrackDelivery(ctx, d("3"), time.Minute, time.Second); err != nil {
		t.Errorf("after the ttl: %v", err)
	}
	if n := s.deliveryLen(); n != 1 {
		t.Errorf("%d records kept, want 1 (the others expired)", n)
	}
	s.dlr.mu.Lock()
	expiry := len(s.dlr.expiry)
	s.dlr.mu.Unlock()
	if expiry != 1 {
		t.Errorf("%d expiry heap entries, want 1", expiry)
	}
}

// One id tracked again and again (a gateway that answers a constant id)
// cannot grow the heaps past their bound.
func TestDeliveryHeapsBounded(t *testing.T) {
	c := &clock{now: time.Unix(1700000000, 0)}
	s := New(Config{Now: c.Now, SweepInterval: -1, MaxEntries: 4})
	d := store.Delivery{Provider: "p", MessageID: "same", SentAt: c.Now(), Status: store.DeliveryAccepted}
	var full int
	for range 20 {
		if err := s.TrackDelivery(context.Background(), d, time.Minute, time.Second); errors.Is(err, store.ErrFull) {
			full++
		}
	}
	s.dlr.mu.Lock()
	w, e := len(s.dlr.waiting), len(s.dlr.expiry)
	s.dlr.mu.Unlock()
	if w > 8 || e > 8 || full != 12 {
		t.Errorf("heaps %d and %d entries, %d refusals; want at most 8 each and 12 refused", w, e, full)
	}
}
