package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/redisstore"
)

func Example() {
	mr, err := miniredis.Run() // stands in for a real server here
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()

	// Options usually come from the config file's redis: section.
	client, err := redisstore.NewClient(redisstore.Options{
		URL:         "redis://" + mr.Addr() + "/0",
		DialTimeout: time.Second,
		ReadTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	s := redisstore.New(client, redisstore.Config{}) // keys under "smscode:"

	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		log.Fatal(err) // wraps store.ErrUnavailable: not ready
	}
	req := store.SendRequest{
		Limits: []store.Limit{{Key: "{+8613800000000}:cooldown", Max: 1, Window: time.Minute}},
		Code:   store.Code{Key: "{+8613800000000}:login", Hash: []byte("hmac of the code"), TTL: 5 * time.Minute, MaxAttempts: 5},
	}
	res, err := s.Reserve(ctx, req)
	fmt.Println(res.Allowed, err, mr.Keys())
	// Output: true <nil> [smscode:{+8613800000000}:cooldown smscode:{+8613800000000}:login]
}
