package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// The conversion cases (store.Conversion) join the suite from here, so that
// they live beside the code they test.
func init() {
	cases = append(cases, []testCase{
		{"ConversionBlocksUnverifiedPrefix", testConversionBlocks},
		{"ConversionVerifiedKeepsPrefixOpen", testConversionVerifiedOpen},
		{"ConversionNormIsTheApps", testConversionNorm},
		{"ConversionExemptNeverBlocked", testConversionExempt},
		{"ConversionBlockExpiresAndStartsAfresh", testConversionBlockExpires},
		{"ConversionUnsendGivesBack", testConversionUnsend},
		{"ConversionVerifiedStartsNoWindow", testConversionVerifiedNoWindow},
		{"ConversionWindowEnd", testConversionWindowEnd},
		{"ConversionConcurrentSends", testConversionConcurrent},
		{"ConversionAtTheBar", testConversionAtTheBar},
		{"ConversionInvalid", testConversionInvalid},
	}...)
}

// convReq is a prefix's conversion step under the subtest's keys: app is
// shared by every prefix of the subtest.
func (e *env) convReq(prefix string, rule store.ConversionRule) store.ConversionSendRequest {
	return store.ConversionSendRequest{Keys: e.convKeys(prefix), Rule: rule}
}

func (e *env) convKeys(prefix string) store.ConversionKeys {
	// As the sender tags them: the prefix's counts and block under one
	// tag, the app's counts under another.
	return store.ConversionKeys{Prefix: e.keyIn(prefix, "cv:"+prefix), App: e.sharedKey("cv"), Block: e.keyIn(prefix, "cvb:"+prefix)}
}

// rule blocks a prefix from 3 sends on below half the norm (floor 0.5).
func rule() store.ConversionRule {
	return store.ConversionRule{MinSends: 3, MaxRatio: 0.5, Floor: 0.5, Window: window, BlockFor: 2 * window}
}

func (e *env) convSend(req store.ConversionSendRequest) store.ConversionSendResult {
	e.t.Helper()
	res, err := e.s.ConversionSend(context.Background(), req)
	if err != nil {
		e.t.Fatalf("ConversionSend: %v", err)
	}
	return res
}

func (e *env) convVerified(prefix string) {
	e.t.Helper()
	if err := e.s.ConversionVerified(context.Background(), e.convKeys(prefix)); err != nil {
		e.t.Fatalf("ConversionVerified: %v", err)
	}
}

// mustCount checks that the step counted the send and read the counts want
// (prefix sent, prefix verified, app sent, app verified).
func (e *env) mustCount(req store.ConversionSendRequest, want [4]int64) {
	e.t.Helper()
	res := e.convSend(req)
	if res.Blocked {
		e.t.Fatalf("ConversionSend blocked (%+v), want counted", res)
	}
	if got := [4]int64{res.PrefixSent, res.PrefixVerified, res.AppSent, res.AppVerified}; got != want {
		e.t.Errorf("counts read = %v, want %v", got, want)
	}
}

func (e *env) mustBlock(req store.ConversionSendRequest, newBlock bool, retry time.Duration) {
	e.t.Helper()
	res := e.convSend(req)
	if !res.Blocked || res.NewBlock != newBlock {
		e.t.Fatalf("ConversionSend = %+v, want blocked (new block %v)", res, newBlock)
	}
	if res.RetryAfter > retry || res.RetryAfter < retry-tolerance {
		e.t.Errorf("RetryAfter = %v, want within (%v, %v]", res.RetryAfter, retry-tolerance, retry)
	}
}

func testConversionBlocks(t *testing.T, e *env) {
	r := rule()
	req := e.convReq("p", r)
	for i := range int64(3) {
		e.mustCount(req, [4]int64{i, 0, i, 0})
	}
	// 3 sends, none verified: 0 < 0.5 × 0.5. This send is refused and the
	// prefix blocked; the next finds the block.
	e.mustBlock(req, true, r.BlockFor)
	e.mustBlock(req, false, r.BlockFor)
	// Another prefix of the same app is not blocked; the app's counters
	// kept the 3 sends.
	e.mustCount(e.convReq("q", r), [4]int64{0, 0, 3, 0})
}

func testConversionVerifiedOpen(t *testing.T, e *env) {
	req := e.convReq("p", rule())
	for i := range int64(6) {
		e.mustCount(req, [4]int64{i, i, i, i})
		e.convVerified("p")
	}
	// Every code verified: the prefix stays open.
	e.mustCount(req, [4]int64{6, 6, 6, 6})
}

func testConversionNorm(t *testing.T, e *env) {
	r := rule()
	r.Floor = 0
	r.MaxRatio = 0.6
	// The app converts fully on prefix a (4 of 4)...
	for i := range int64(4) {
		e.mustCount(e.convReq("a", r), [4]int64{i, i, i, i})
		e.convVerified("a")
	}
	// ...prefix b converts one in two (the first and third codes).
	b := e.convReq("b", r)
	for i := range int64(4) {
		e.mustCount(b, [4]int64{i, (i + 1) / 2, 4 + i, 4 + (i+1)/2})
		if i%2 == 0 {
			e.convVerified("b")
		}
	}
	// b: 2 of 4 = 0.5, not below 0.6 × the app's 6/8 = 0.45: b still sends.
	e.mustCount(b, [4]int64{4, 2, 8, 6})
	// 2 of 5 = 0.4 is below 0.9 × the app's 6/9 = 0.6: blocked.
	r.MaxRatio = 0.9
	e.mustBlock(e.convReq("b", r), true, r.BlockFor)
}

func testConversionExempt(t *testing.T, e *env) {
	req := e.convReq("p", rule())
	req.Exempt = true
	for i := range int64(10) {
		e.mustCount(req, [4]int64{i, 0, i, 0})
	}
}

func testConversionBlockExpires(t *testing.T, e *env) {
	r := rule()
	r.BlockFor = window / 2
	req := e.convReq("p", r)
	for i := range int64(3) {
		e.mustCount(req, [4]int64{i, 0, i, 0})
	}
	e.mustBlock(req, true, r.BlockFor)
	// An exempt (allow-listed) send goes through the block.
	ex := req
	ex.Exempt = true
	e.mustCount(ex, [4]int64{0, 0, 3, 0})
	e.advance(r.BlockFor + past)
	// The block has ended, and the prefix starts a clean window (the
	// exempt send counted once in it).
	e.mustCount(req, [4]int64{1, 0, 4, 0})
}

func testConversionUnsend(t *testing.T, e *env) {
	req := e.convReq("p", rule())
	e.mustCount(req, [4]int64{0, 0, 0, 0})
	if err := e.s.ConversionUnsend(context.Background(), e.convKeys("p")); err != nil {
		t.Fatal(err)
	}
	e.mustCount(req, [4]int64{0, 0, 0, 0})
	// Giving back more than was counted leaves zero, not below.
	for range 3 {
		if err := e.s.ConversionUnsend(context.Background(), e.convKeys("p")); err != nil {
			t.Fatal(err)
		}
	}
	e.mustCount(req, [4]int64{0, 0, 0, 0})
}

func testConversionVerifiedNoWindow(t *testing.T, e *env) {
	// Verifications without sends count nothing, and never more than the
	// sends are counted.
	e.convVerified("p")
	req := e.convReq("p", rule())
	e.mustCount(req, [4]int64{0, 0, 0, 0})
	e.convVerified("p")
	e.convVerified("p")
	e.mustCount(req, [4]int64{1, 1, 1, 1})
}

func testConversionWindowEnd(t *testing.T, e *env) {
	req := e.convReq("p", rule())
	for i := range int64(3) {
		e.mustCount(req, [4]int64{i, 0, i, 0})
	}
	e.advance(window + past)
	// A new window: the 3 unverified sends are forgotten, no block.
	e.mustCount(req, [4]int64{0, 0, 0, 0})
}

func testConversionConcurrent(t *testing.T, e *env) {
	// 40 concurrent sends to a prefix that never verifies: exactly
	// MinSends are counted, then exactly one call blocks it.
	r := rule()
	r.MinSends = 10
	req := e.convReq("p", r)
	var (
		wg                      sync.WaitGroup
		mu                      sync.Mutex
		counted, blocks, refuse int
	)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.s.ConversionSend(context.Background(), req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case res.NewBlock:
				blocks++
			case res.Blocked:
				refuse++
			default:
				counted++
			}
		}()
	}
	wg.Wait()
	if counted != 10 || blocks != 1 || refuse != 29 {
		t.Errorf("counted %d, new blocks %d, refused %d; want 10, 1, 29", counted, blocks, refuse)
	}
}

func testConversionInvalid(t *testing.T, e *env) {
	ctx := context.Background()
	bad := map[string]func(*store.ConversionSendRequest){
		"no prefix key":     func(r *store.ConversionSendRequest) { r.Keys.Prefix = "" },
		"app is the prefix": func(r *store.ConversionSendRequest) { r.Keys.App = r.Keys.Prefix },
		"block is the app":  func(r *store.ConversionSendRequest) { r.Keys.Block = r.Keys.App },
		"MinSends 0":        func(r *store.ConversionSendRequest) { r.Rule.MinSends = 0 },
		"Window 0":          func(r *store.ConversionSendRequest) { r.Rule.Window = 0 },
		"BlockFor 0":        func(r *store.ConversionSendRequest) { r.Rule.BlockFor = 0 },
		"ratio above 1":     func(r *store.ConversionSendRequest) { r.Rule.MaxRatio = 1.5 },
		"negative floor":    func(r *store.ConversionSendRequest) { r.Rule.Floor = -0.1 },
	}
	for name, mutate := range bad {
		req := e.convReq("p", rule())
		mutate(&req)
		_, err := e.s.ConversionSend(ctx, req)
		if !errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("ConversionSend with %s: err = %v, want ErrInvalid", name, err)
		}
	}
	for _, op := range []func(context.Context, store.ConversionKeys) error{e.s.ConversionUnsend, e.s.ConversionVerified} {
		if err := op(ctx, store.ConversionKeys{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	}
}

func testConversionAtTheBar(t *testing.T, e *env) {
	// 8 verified of 50 is exactly 0.2 × the floor 0.8 (8.000000000000002
	// in doubles): not below the bar, so not blocked; 7 of 50 would be.
	r := store.ConversionRule{MinSends: 50, MaxRatio: 0.2, Floor: 0.8, Window: time.Minute, BlockFor: time.Minute}
	at, below := e.convReq("at", r), e.convReq("below", r)
	for i := range 50 {
		e.convSend(at)
		e.convSend(below)
		if i < 8 {
			e.convVerified("at")
		}
		if i < 7 {
			e.convVerified("below")
		}
	}
	e.mustCount(at, [4]int64{50, 8, 100, 15})
	e.mustBlock(below, true, r.BlockFor)
}
