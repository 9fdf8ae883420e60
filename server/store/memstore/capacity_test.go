package memstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// A full store refuses calls that would add entries, with an error that
// wraps store.ErrFull and store.ErrUnavailable (so that callers fail
// closed), and goes on with calls that only change or drop entries.
func TestMaxEntries(t *testing.T) {
	const max = 6
	ctx := context.Background()
	code := store.Code{Key: "{a}:code", Hash: []byte("right"), TTL: time.Hour, MaxAttempts: 5}
	send := store.SendRequest{Limits: []store.Limit{{Key: "{a}:n", Max: 10, Window: time.Hour}}, Code: code}
	// base leaves the store with max entries, all live for an hour, two
	// of them send's counter and code (other tags: other shards, since
	// the cap is the store's, not a shard's).
	base := func(t *testing.T, s *Store) {
		t.Helper()
		if res, err := s.Reserve(ctx, send); err != nil || !res.Allowed {
			t.Fatalf("Reserve: %+v, %v", res, err)
		}
		if err := s.Put(ctx, "{b}:v", []byte("x"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.UseOnce(ctx, "{c}:u", time.Hour); err != nil || !ok {
			t.Fatalf("UseOnce: %v, %v", ok, err)
		}
		for i := range max - 4 {
			if err := s.Put(ctx, fmt.Sprintf("{d%d}:v", i), []byte("x"), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		// advance moves the clock after base (an entry's expiry frees room).
		advance time.Duration
		call    func(s *Store) error
		full    bool
	}{
		{"new counter and code", 0, func(s *Store) error {
			_, err := s.Reserve(ctx, store.SendRequest{Limits: []store.Limit{{Key: "{z}:n", Max: 1, Window: time.Hour}}})
			return err
		}, true},
		{"new code only", 0, func(s *Store) error {
			_, err := s.Reserve(ctx, store.SendRequest{Code: store.Code{Key: "{z}:code", Hash: []byte{1}, TTL: time.Hour, MaxAttempts: 1}})
			return err
		}, true},
		{"new used marker", 0, func(s *Store) error { _, err := s.UseOnce(ctx, "{z}:u", time.Hour); return err }, true},
		{"new value", 0, func(s *Store) error { return s.Put(ctx, "{z}:v", []byte("x"), time.Hour) }, true},
		{"wrong guess starts a source's count", 0, func(s *Store) error {
			_, err := s.Verify(ctx, store.VerifyRequest{Key: code.Key, Hash: []byte("wrong"), Sources: []string{"ip"}})
			return err
		}, true},
		{"verify limit's new counter", 0, func(s *Store) error {
			_, err := s.Verify(ctx, store.VerifyRequest{Key: "{z}:none", Hash: []byte("x"),
				Limits: []store.VerifyLimit{{Limit: store.Limit{Key: "{z}:ip", Max: 5, Window: time.Hour}, AnyFailure: true}}})
			return err
		}, true},
		{"existing counter and code", 0, func(s *Store) error {
			res, err := s.Reserve(ctx, send)
			if err == nil && !res.Allowed {
				err = errors.New("second send refused")
			}
			return err
		}, false},
		{"existing value replaced", 0, func(s *Store) error { return s.Put(ctx, "{b}:v", []byte("y"), time.Hour) }, false},
		{"take", 0, func(s *Store) error {
			if _, ok, err := s.Take(ctx, "{b}:v"); err != nil || !ok {
				return fmt.Errorf("Take: %v, %v", ok, err)
			}
			return s.Put(ctx, "{z}:v", []byte("x"), time.Hour) // Take freed room
		}, false},
		{"used marker used again", 0, func(s *Store) error {
			if ok, err := s.UseOnce(ctx, "{c}:u", time.Hour); err != nil || ok {
				return fmt.Errorf("UseOnce again: %v, %v", ok, err)
			}
			return nil
		}, false},
		{"right code", 0, func(s *Store) error {
			res, err := s.Verify(ctx, store.VerifyRequest{Key: code.Key, Hash: []byte("right"), Sources: []string{"ip"}})
			if err == nil && res.Outcome != store.VerifyOK {
				err = fmt.Errorf("outcome %v", res.Outcome)
			}
			return err
		}, false},
		{"expired entries evicted for room", time.Hour, func(s *Store) error {
			_, err := s.Reserve(ctx, store.SendRequest{Limits: []store.Limit{{Key: "{z}:n", Max: 1, Window: time.Hour}},
				Code: store.Code{Key: "{z}:code", Hash: []byte{1}, TTL: time.Hour, MaxAttempts: 1}})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{now: time.Unix(1e9, 0)}
			s := New(Config{Now: c.Now, SweepInterval: -1, MaxEntries: max})
			defer s.Close()
			base(t, s)
			if n := s.Len(); n != max {
				t.Fatalf("base left %d entries, want %d", n, max)
			}
			c.Advance(tt.advance)
			err := tt.call(s)
			switch {
			case tt.full && (!errors.Is(err, store.ErrFull) || !errors.Is(err, store.ErrUnavailable)):
				t.Errorf("err = %v, want ErrFull and ErrUnavailable", err)
			case !tt.full && err != nil:
				t.Errorf("err = %v, want none", err)
			}
			if n := s.Len(); n > max {
				t.Errorf("%d entries, cap %d", n, max)
			}
			if n, total := s.Len(), s.total.Load(); int64(n) != total {
				t.Errorf("total %d, entries %d", total, n)
			}
		})
	}
}

// The total that the cap is checked against follows the entries through
// every kind of call and the sweeper, under concurrency.
func TestTotalFollowsEntries(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	s := New(Config{Now: c.Now, SweepInterval: time.Millisecond, MaxEntries: 500})
	defer s.Close()
	ctx := context.Background()
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range 2000 {
				tag := fmt.Sprintf("{%d}", r.IntN(300))
				switch i % 5 {
				case 0:
					_, _ = s.Reserve(ctx, store.SendRequest{Limits: []store.Limit{{Key: tag + ":n", Max: 3, Window: time.Second}, {Key: "plain" + tag, Max: 3, Window: time.Second}},
						Code: store.Code{Key: tag + ":c", Hash: []byte{1}, TTL: time.Second, MaxAttempts: 2}})
				case 1:
					_, _ = s.Verify(ctx, store.VerifyRequest{Key: tag + ":c", Hash: []byte{2}, Sources: []string{"a", "b"},
						Limits: []store.VerifyLimit{{Limit: store.Limit{Key: tag + ":v", Max: 3, Window: time.Second}, AnyFailure: true}}})
				case 2:
					_ = s.Put(ctx, tag+":p", []byte("x"), time.Second)
				case 3:
					_, _, _ = s.Take(ctx, tag+":p")
				case 4:
					_, _ = s.UseOnce(ctx, tag+":u", time.Second)
				}
				if i%100 == 0 {
					c.Advance(100 * time.Millisecond)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	s.Close() // the sweeper stops, so that Len and total are read at rest
	n, total := s.Len(), s.total.Load()
	t.Logf("%d entries, total %d, cap 500", n, total)
	if int64(n) != total {
		t.Errorf("total %d, entries %d", total, n)
	}
	// Four callers in flight, each adding at most 5 entries past the cap.
	if n > 500+4*5 {
		t.Errorf("%d entries, cap 500", n)
	}
}

// TestBytesPerEntry measures the heap that a limit counter (the entry a
// flood from rotating addresses creates) costs, for DefaultMaxEntries'
// figure.
func TestBytesPerEntry(t *testing.T) {
	n := 200_000
	if raceEnabled {
		n = 20_000
	}
	s := New(Config{SweepInterval: -1, MaxEntries: n})
	defer s.Close()
	ctx := context.Background()
	before := heap()
	for i := range n / 2 {
		// As a verify from a new address makes them: a per-IP and a
		// per-device counter under the application's tag.
		_, err := s.Verify(ctx, store.VerifyRequest{Key: "{DRrYIqauawN0I8myTMoDTPys6ezGZxnm/t}:code:LOGIN_SMS:x", Hash: []byte{1},
			Limits: []store.VerifyLimit{
				{Limit: store.Limit{Key: fmt.Sprintf("{DRrYIqauawN0I8myTMoDTPys6ezGZxnm/t}:verify:ip:127.%d.%d.%d", i>>16&255, i>>8&255, i&255), Max: 30, Window: time.Hour}, AnyFailure: true},
				{Limit: store.Limit{Key: fmt.Sprintf("{DRrYIqauawN0I8myTMoDTPys6ezGZxnm/t}:verify:dev:%064x", i), Max: 30, Window: time.Hour}, AnyFailure: true},
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	per := float64(heap()-before) / float64(s.Len())
	runtime.KeepAlive(s)
	t.Logf("%.0f bytes per counter over %d entries: %.0f MB at DefaultMaxEntries (%d)", per, s.Len(), per*DefaultMaxEntries/1e6, DefaultMaxEntries)
	if per > 150 {
		t.Errorf("%.0f bytes per counter, want at most 150 (DefaultMaxEntries' doc says about 100)", per)
	}
}
