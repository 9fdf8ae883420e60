package memstore

import (
	dlrheap "container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/smscode/smscode/server/store"
)

// deliveries is the store.Deliveries part of a Store: one map under one
// mutex (receipts are a few per send, not worth shards), with two heaps of
// deadlines: when each record's wait for a receipt ends, and when it
// expires. Heap entries of records replaced or settled since are skipped
// when they come up, and both shrink as their deadlines pass. The map holds
// at most Config.MaxEntries records, each heap twice as many entries (then
// TrackDelivery fails with store.ErrFull).
type deliveries struct {
	mu      sync.Mutex
	byID    map[deliveryID]*delivery
	waiting deadlines // by the end of the wait
	expiry  deadlines // by the end of the ttl
}

type deliveryID struct{ provider, messageID string }

type delivery struct {
	d        store.Delivery
	waitEnd  int64 // unix nanoseconds
	expireAt int64 // store clock
	gen      uint64
}

type deadline struct {
	at  int64
	id  deliveryID
	gen uint64
}

type deadlines []deadline

func (h deadlines) Len() int           { return len(h) }
func (h deadlines) Less(i, j int) bool { return h[i].at < h[j].at }
func (h deadlines) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlines) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlines) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TrackDelivery implements store.Deliveries.
func (s *Store) TrackDelivery(ctx context.Context, d store.Delivery, ttl, wait time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: track delivery: %w", err)
	}
	if err := store.ValidateDelivery(d, ttl, wait); err != nil {
		return err
	}
	now := s.clock()
	t := &s.dlr
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = map[deliveryID]*delivery{}
	}
	t.dropExpired(now)
	id := deliveryID{d.Provider, d.MessageID}
	old, replaced := t.byID[id]
	// The heaps count too: a gateway that answers the same id for every
	// message would otherwise add heap entries without adding records.
	if (!replaced && int64(len(t.byID)) >= s.max) || int64(len(t.expiry)) >= 2*s.max || int64(len(t.waiting)) >= 2*s.max {
		return full("track delivery")
	}
	var gen uint64
	if replaced {
		gen = old.gen + 1
	}
	rec := &delivery{d: d, waitEnd: d.SentAt.Add(wait).UnixNano(), expireAt: now + int64(ttl), gen: gen}
	t.byID[id] = rec
	dlrheap.Push(&t.waiting, deadline{rec.waitEnd, id, gen})
	dlrheap.Push(&t.expiry, deadline{rec.expireAt, id, gen})
	return nil
}

// SettleDelivery implements store.Deliveries.
func (s *Store) SettleDelivery(ctx context.Context, provider, messageID string, status store.DeliveryStatus, at time.Time) (store.Delivery, store.SettleOutcome, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, 0, fmt.Errorf("memstore: settle delivery: %w", err)
	}
	if err := store.ValidateSettle(provider, messageID, status); err != nil {
		return store.Delivery{}, 0, err
	}
	t := &s.dlr
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropExpired(s.clock())
	rec, ok := t.byID[deliveryID{provider, messageID}]
	if !ok {
		return store.Delivery{}, store.SettleUnknownID, nil
	}
	switch rec.d.Status {
	case store.DeliveryAccepted:
		rec.d.Status, rec.d.SettledAt = status, at
		return rec.d, store.Settled, nil
	case status:
		return rec.d, store.SettleDuplicate, nil
	default:
		return rec.d, store.SettleLate, nil
	}
}

// ExpireDeliveries implements store.Deliveries.
func (s *Store) ExpireDeliveries(ctx context.Context, now time.Time, max int) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: expire deliveries: %w", err)
	}
	t := &s.dlr
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropExpired(s.clock())
	var out []store.Delivery
	cut := now.UnixNano()
	for len(out) < max && len(t.waiting) > 0 && t.waiting[0].at < cut {
		dl := dlrheap.Pop(&t.waiting).(deadline)
		rec, ok := t.byID[dl.id]
		if !ok || rec.gen != dl.gen || rec.d.Status != store.DeliveryAccepted {
			continue
		}
		rec.d.Status, rec.d.SettledAt = store.DeliveryUnknown, now
		out = append(out, rec.d)
	}
	return out, nil
}

// dropExpired removes the records whose ttl ended (and the waiting entries
// of records gone, once they come up). Called under t.mu.
func (t *deliveries) dropExpired(now int64) {
	for len(t.expiry) > 0 && t.expiry[0].at <= now {
		dl := dlrheap.Pop(&t.expiry).(deadline)
		if rec, ok := t.byID[dl.id]; ok && rec.gen == dl.gen {
			delete(t.byID, dl.id)
		}
	}
	// Waiting entries of settled or dropped records would otherwise stay
	// until their deadline: bounded by the records tracked within one wait,
	// and popped by ExpireDeliveries.
}

// deliveryLen is how many deliveries are kept (tests).
func (s *Store) deliveryLen() int {
	s.dlr.mu.Lock()
	defer s.dlr.mu.Unlock()
	return len(s.dlr.byID)
}
