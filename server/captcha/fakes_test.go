package captcha_test

import (
	"context"
	"sync"
	"time"

	"github.com/smscode/smscode/server/captcha"
)

// stubVerifier answers every token with err and counts the calls.
type stubVerifier struct {
	mu    sync.Mutex
	err   error
	calls []captcha.Request
}

func (s *stubVerifier) Verify(_ context.Context, req captcha.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, req)
	return s.err
}

func (s *stubVerifier) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// useOnceStore is an in-memory UseOncer with an injectable failure.
type useOnceStore struct {
	mu   sync.Mutex
	used map[string]time.Duration
	err  error
}

func newUseOnceStore() *useOnceStore { return &useOnceStore{used: map[string]time.Duration{}} }

func (s *useOnceStore) UseOnce(_ context.Context, key string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	if _, ok := s.used[key]; ok {
		return false, nil
	}
	s.used[key] = ttl
	return true, nil
}
