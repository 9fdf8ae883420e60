package memstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/smscode/smscode/server/store"
)

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: put: %w", err)
	}
	if key == "" || ttl < time.Millisecond {
		return fmt.Errorf("memstore: %w: Put needs a key and a ttl of at least 1ms", store.ErrInvalid)
	}
	h, sh := s.lockKey(key)
	defer s.unlock(h)
	d, now := digestOf(key), s.clock()
	if !has(sh.values, d) && !s.room(h, 1, now) {
		return full("put")
	}
	// A copy, so that the caller may reuse its buffer.
	sh.values[d] = value{data: bytes.Clone(val), expires: now + int64(ttl)}
	return nil
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("memstore: take: %w", err)
	}
	h, sh := s.lockKey(key)
	defer s.unlock(h)
	d := digestOf(key)
	v, ok := sh.values[d]
	if !ok {
		return nil, false, nil
	}
	delete(sh.values, d)
	if v.expires <= s.clock() {
		return nil, false, nil
	}
	return v.data, true, nil
}
