package memstore_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/memstore"
)

func Example() {
	s := memstore.New(memstore.Config{}) // time.Now, sweep every minute
	defer s.Close()
	ctx := context.Background()

	mac := func(code string) []byte {
		m := hmac.New(sha256.New, []byte("server secret"))
		m.Write([]byte(code))
		return m.Sum(nil)
	}
	req := store.SendRequest{
		Limits: []store.Limit{{Key: "{+8613800000000}:cooldown", Max: 1, Window: time.Minute}},
		Code:   store.Code{Key: "{+8613800000000}:login", Hash: mac("123456"), TTL: 5 * time.Minute, MaxAttempts: 5},
	}
	res, _ := s.Reserve(ctx, req)
	fmt.Println("first send allowed:", res.Allowed)
	res, _ = s.Reserve(ctx, req)
	fmt.Println("second send allowed:", res.Allowed, "retry within a minute:", res.RetryAfter <= time.Minute)

	out, _ := s.Verify(ctx, store.VerifyRequest{Key: "{+8613800000000}:login", Hash: mac("123456")})
	fmt.Println("verified:", out.Outcome == store.VerifyOK)
	// Output:
	// first send allowed: true
	// second send allowed: false retry within a minute: true
	// verified: true
}

// A store with a cap refuses new entries once full, with an error that
// wraps store.ErrFull (and store.ErrUnavailable, on which callers fail
// closed); what is already there can still be used.
func Example_maxEntries() {
	s := memstore.New(memstore.Config{MaxEntries: 2})
	defer s.Close()
	ctx := context.Background()
	for _, token := range []string{"a", "b", "c"} {
		_, err := s.UseOnce(ctx, "{app}:captcha:"+token, time.Minute)
		fmt.Printf("token %s: full %v\n", token, errors.Is(err, store.ErrFull))
	}
	first, err := s.UseOnce(ctx, "{app}:captcha:a", time.Minute)
	fmt.Println("token a again: first use", first, "error", err)
	// Output:
	// token a: full false
	// token b: full false
	// token c: full true
	// token a again: first use false error <nil>
}
