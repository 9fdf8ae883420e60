package memstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/memstore"
	"github.com/smscode/smscode/server/store/storetest"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestConformance(t *testing.T) {
	var clocks sync.Map // *testing.T -> *fakeClock: subtests run in parallel
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			c := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			clocks.Store(t, c)
			s := memstore.New(memstore.Config{Now: c.Now})
			t.Cleanup(s.Close)
			return s
		},
		Advance: func(t *testing.T, d time.Duration) {
			c, _ := clocks.Load(t)
			c.(*fakeClock).Advance(d)
		},
	})
}

// The suite once more on the real clock, as a check that it tolerates one
// (it is what redisstore's real-server run relies on).
func TestConformanceRealClock(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			s := memstore.New(memstore.Config{})
			t.Cleanup(s.Close)
			return s
		},
		Advance: func(_ *testing.T, d time.Duration) { time.Sleep(d) },
	})
}

func BenchmarkReserve(b *testing.B) {
	s := memstore.New(memstore.Config{})
	defer s.Close()
	storetest.BenchReserve(b, s)
}

func BenchmarkReserveParallel(b *testing.B) {
	s := memstore.New(memstore.Config{})
	defer s.Close()
	storetest.BenchReserveParallel(b, s)
}
