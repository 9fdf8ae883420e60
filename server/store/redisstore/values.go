package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/server/store"
)

// Put implements store.Store: one SET with an expiry.
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: put: %w", err)
	}
	if key == "" || ttl < time.Millisecond {
		return fmt.Errorf("redisstore: %w: Put needs a key and a ttl of at least 1ms", store.ErrInvalid)
	}
	if err := s.rdb.Set(ctx, s.prefix+key, value, time.Duration(ms(ttl))*time.Millisecond).Err(); err != nil {
		return unavailable("put", err)
	}
	return nil
}

// Take implements store.Store: GETDEL reads and deletes in one atomic
// command, so only one of several instances taking a key gets its value.
func (s *Store) Take(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("redisstore: take: %w", err)
	}
	v, err := s.rdb.GetDel(ctx, s.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, unavailable("take", err)
	}
	return v, true, nil
}
