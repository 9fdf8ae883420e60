package memstore_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
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
