package storetest

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// Put then Take returns the value once; a second Take and an expired value
// find nothing; Put replaces.
func testPutTake(t *testing.T, e *env) {
	ctx := context.Background()
	put := func(name, v string) {
		t.Helper()
		if err := e.s.Put(ctx, e.key(name), []byte(v), window); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	take := func(name string) (string, bool) {
		t.Helper()
		v, ok, err := e.s.Take(ctx, e.key(name))
		if err != nil {
			t.Fatalf("Take: %v", err)
		}
		return string(v), ok
	}
	put("p", "first")
	put("p", "second")
	if v, ok := take("p"); !ok || v != "second" {
		t.Errorf("Take = %q, %v; want the replacing value", v, ok)
	}
	if _, ok := take("p"); ok {
		t.Error("a second Take found the value")
	}
	if _, ok := take("never"); ok {
		t.Error("Take of a key never put found a value")
	}
	buf := []byte("binary\x00\xff")
	if err := e.s.Put(ctx, e.key("b"), buf, window); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X' // the store keeps its own copy
	if v, ok := take("b"); !ok || !bytes.Equal([]byte(v), []byte("binary\x00\xff")) {
		t.Errorf("binary value = %q", v)
	}
	put("e", "expires")
	e.advance(window + past)
	if _, ok := take("e"); ok {
		t.Error("an expired value was taken")
	}
}

// Of 20 concurrent Takes of one value, exactly one gets it.
func testConcurrentTake(t *testing.T, e *env) {
	ctx := context.Background()
	if err := e.s.Put(ctx, e.key("once"), []byte("v"), window); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, err := e.s.Take(ctx, e.key("once")); err != nil {
				t.Error(err)
			} else if ok {
				got.Add(1)
			}
		}()
	}
	wg.Wait()
	if got.Load() != 1 {
		t.Fatalf("%d Takes got the value, want exactly 1", got.Load())
	}
}
