package slider

import (
	"context"
	"sync"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memKeeper is an in-memory Keeper whose entries expire on its clock, with
// an injectable failure.
type memKeeper struct {
	mu   sync.Mutex
	now  func() time.Time
	data map[string]entry
	err  error
}

type entry struct {
	value   []byte
	ttl     time.Duration
	expires time.Time
}

func newMemKeeper(now func() time.Time) *memKeeper {
	return &memKeeper{now: now, data: map[string]entry{}}
}

func (k *memKeeper) Put(_ context.Context, key string, value []byte, ttl time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return k.err
	}
	k.data[key] = entry{value: append([]byte(nil), value...), ttl: ttl, expires: k.now().Add(ttl)}
	return nil
}

func (k *memKeeper) Take(_ context.Context, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return nil, false, k.err
	}
	e, ok := k.data[key]
	delete(k.data, key)
	if !ok || !k.now().Before(e.expires) {
		return nil, false, nil
	}
	return e.value, true, nil
}

// peek returns an entry without taking it.
func (k *memKeeper) peek(key string) (entry, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.data[key]
	return e, ok
}

func (k *memKeeper) fail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.err = err
}
