package memstore

import (
	"fmt"
	"time"

	"github.com/smscode/smscode/server/store"
)

// DefaultMaxEntries is Config.MaxEntries when it is not set: about 100 MB of
// heap at the ~100 bytes an entry takes (TestBytesPerEntry measures it).
const DefaultMaxEntries = 1_000_000

// fullSweepGap is how often, at most, a full shard is swept of its expired
// entries before a call is refused: a flood against a full store then costs
// one scan of the shard a second, not one per request.
const fullSweepGap = int64(time.Second)

// size is how many entries the shard holds, expired ones not yet evicted
// included.
func (sh *shard) size() int {
	return len(sh.counters) + len(sh.codes) + len(sh.used) + len(sh.values)
}

// evictExpired deletes the shard's expired entries; its lock is held.
func (sh *shard) evictExpired(now int64) {
	for k, c := range sh.counters {
		if c.expires <= now {
			delete(sh.counters, k)
		}
	}
	for k, c := range sh.codes {
		if c.expires <= now {
			delete(sh.codes, k)
		}
	}
	for k, exp := range sh.used {
		if exp <= now {
			delete(sh.used, k)
		}
	}
	for k, v := range sh.values {
		if v.expires <= now {
			delete(sh.values, k)
		}
	}
}

// room reports whether the store can take n more entries, the shards of h
// being locked, after evicting expired entries when it is full: those of
// every shard not swept so in the last fullSweepGap, the others' only when
// their lock is free (TryLock: this call holds its own shards' locks, and
// waiting for another's could deadlock). Live entries are never evicted to
// make room: evicting a live limit counter would reset that limit for
// whoever filled the store.
func (s *Store) room(h held, n int, now int64) bool {
	if s.fitsNow(h, n) {
		return true
	}
	swept := false
	for i := range s.shards {
		sh := &s.shards[i]
		mine := h.set&(1<<i) != 0
		if !mine && !sh.mu.TryLock() {
			continue
		}
		if now-sh.fullSweptAt >= fullSweepGap {
			before := sh.size()
			sh.evictExpired(now)
			sh.fullSweptAt = now
			swept = true
			if !mine {
				s.total.Add(int64(sh.size() - before))
			} // (this call's own shards: unlock counts what was evicted)
		}
		if !mine {
			sh.mu.Unlock()
		}
	}
	return swept && s.fitsNow(h, n)
}

// fitsNow reports whether the store's total, with what this call has
// changed so far, leaves room for n more entries.
func (s *Store) fitsNow(h held, n int) bool {
	return s.total.Load()+int64(s.sizeOf(h.set)-h.before+n) <= s.max
}

// fits reports whether the store can take the entries that count counts,
// up to upTo of them: only when upTo might not fit are they counted
// exactly, which costs a map lookup per key. count is called again after a
// sweep, since a key whose expired entry was evicted is then a new one.
func (s *Store) fits(h held, upTo int, now int64, count func() int) bool {
	if s.fitsNow(h, upTo) {
		return true
	}
	n := count()
	if n == 0 || s.fitsNow(h, n) {
		return true
	}
	if !s.room(h, n, now) {
		return false
	}
	return s.fitsNow(h, count())
}

// full is the error of a call refused because the store is full: it wraps
// store.ErrUnavailable, so that callers fail closed, and store.ErrFull.
func full(op string) error {
	return fmt.Errorf("memstore: %s: %w: %w", op, store.ErrUnavailable, store.ErrFull)
}

// Len reports how many entries the store holds, expired ones not yet
// evicted included (for tests and operators' figures).
func (s *Store) Len() (n int) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.size()
		sh.mu.Unlock()
	}
	return n
}
