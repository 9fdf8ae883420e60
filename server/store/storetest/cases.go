package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/server/store"
)

// testCase is one subtest of the suite.
type testCase struct {
	name string
	fn   func(*testing.T, *env)
}

// cases lists the suite's subtests; each runs in parallel with the others
// under keys of its own.
var cases = []testCase{
	{"LimitAllowsMaxThenRefuses", testLimitAllowsMax},
	{"FirstRefusingLimit", testFirstRefusingLimit},
	{"RefusedChargesNothing", testRefusedChargesNothing},
	{"WindowEndRestoresRoom", testWindowEnd},
	{"BlockExtendsRefusal", testBlock},
	{"BlockShorterThanWindow", testBlockShorterThanWindow},
	{"ReleaseGivesBack", testRelease},
	{"ReleaseKeepsNewerCode", testReleaseKeepsNewerCode},
	{"ReleaseOfRefusedIsNoop", testReleaseRefused},
	{"ReserveWithoutCode", testReserveWithoutCode},
	{"VerifyConsumes", testVerifyConsumes},
	{"VerifyWrongIsCounted", testVerifyWrong},
	{"VerifyTooManyAttempts", testVerifyTooMany},
	{"VerifyHashesOfAnyLength", testVerifyHashLengths},
	{"VerifyExpired", testVerifyExpired},
	{"VerifyAttemptsPerSource", testVerifyPerSource},
	{"VerifyLimitsCountFailures", testVerifyLimits},
	{"VerifyLimitsRefuseBeforeCompare", testVerifyLimitRefuses},
	{"VerifyWrongOnlyLimitsAcrossCodes", testVerifyWrongOnlyAcrossCodes},
	{"ConcurrentWrongGuesses", testConcurrentWrongGuesses},
	{"NewReserveReplacesCode", testNewReserveReplaces},
	{"UseOnce", testUseOnce},
	{"PutTake", testPutTake},
	{"ConcurrentTake", testConcurrentTake},
	{"HashTagKeys", testHashTagKeys},
	{"ConcurrentReserve", testConcurrentReserve},
	{"ConcurrentVerify", testConcurrentVerify},
	{"ContextCancelled", testContextCancelled},
	{"InvalidRequests", testInvalid},
	{"Ping", testPing},
}

func testLimitAllowsMax(t *testing.T, e *env) {
	req := store.SendRequest{Limits: []store.Limit{e.limit("n", 3, window)}, Code: e.code("c", "1", 3)}
	for range 3 {
		e.mustAllow(req)
	}
	// The window is anchored at the first event: a quarter later, the
	// refusal says three quarters remain.
	e.advance(window / 4)
	e.mustRefuse(req, 0, window-window/4)
	e.mustRefuse(req, 0, window-window/4)
}

func testFirstRefusingLimit(t *testing.T, e *env) {
	a, b, c := e.limit("a", 5, window), e.limit("b", 1, window), e.limit("c", 1, window)
	e.mustAllow(store.SendRequest{Limits: []store.Limit{a, b, c}, Code: e.code("k", "1", 3)})
	// b and c both refuse: the first in order is reported.
	e.mustRefuse(store.SendRequest{Limits: []store.Limit{a, b, c}, Code: e.code("k", "2", 3)}, 1, window)
	// Only c refuses; d has room (and is not charged).
	d := e.limit("d", 1, window)
	e.mustRefuse(store.SendRequest{Limits: []store.Limit{a, d, c}, Code: e.code("k", "3", 3)}, 2, window)
	e.mustAllow(store.SendRequest{Limits: []store.Limit{d}})
}

func testRefusedChargesNothing(t *testing.T, e *env) {
	a := e.limit("a", 2, window)
	a.Block = time.Hour // a never refuses here, so it must never block
	b := e.limit("b", 1, window)
	e.mustAllow(store.SendRequest{Limits: []store.Limit{a, b}, Code: e.code("c", "1", 3)})
	e.mustRefuse(store.SendRequest{Limits: []store.Limit{a, b}, Code: e.code("c", "2", 3)}, 1, window)
	e.mustRefuse(store.SendRequest{Limits: []store.Limit{a, b}, Code: e.code("other", "3", 3)}, 1, window)
	// a was charged once: one more fits, then it refuses (and only now
	// applies its Block).
	e.mustAllow(store.SendRequest{Limits: []store.Limit{a}})
	e.mustRefuse(store.SendRequest{Limits: []store.Limit{a}}, 0, a.Block)
	// Neither refused code was stored, nor did it replace the pending one.
	e.wantVerify("other", "3", store.VerifyNotFound)
	e.wantVerify("c", "2", store.VerifyWrong)
	e.wantVerify("c", "1", store.VerifyOK)
}

func testWindowEnd(t *testing.T, e *env) {
	req := store.SendRequest{Limits: []store.Limit{e.limit("n", 1, window)}}
	e.mustAllow(req)
	e.mustRefuse(req, 0, window)
	e.advance(window + past)
	e.mustAllow(req)
	// A new window starts at the new first event.
	e.mustRefuse(req, 0, window)
}

func testBlock(t *testing.T, e *env) {
	const w, block = 200 * time.Millisecond, 800 * time.Millisecond
	lim := e.limit("prefix", 1, w)
	lim.Block = block
	req := store.SendRequest{Limits: []store.Limit{lim}}
	e.mustAllow(req)
	e.mustRefuse(req, 0, block)
	// Past the window the block still refuses, and a refusal during the
	// block does not push its end further out.
	e.advance(w + past)
	e.mustRefuse(req, 0, block-w-past)
	e.advance(block - w)
	e.mustAllow(req)
}

func testBlockShorterThanWindow(t *testing.T, e *env) {
	lim := e.limit("n", 1, window)
	lim.Block = window / 4 // shorter than what remains: the window decides
	req := store.SendRequest{Limits: []store.Limit{lim}}
	e.mustAllow(req)
	e.mustRefuse(req, 0, window)
}

func testRelease(t *testing.T, e *env) {
	req := store.SendRequest{Limits: []store.Limit{e.limit("a", 1, window), e.limit("b", 2, window)}, Code: e.code("c", "1", 3)}
	res := e.mustAllow(req)
	e.release(req, res)
	e.wantVerify("c", "1", store.VerifyNotFound)
	// Both counts came back: a (Max 1) has room again, b takes two more.
	e.mustAllow(store.SendRequest{Limits: []store.Limit{req.Limits[0], req.Limits[1]}})
	e.mustAllow(store.SendRequest{Limits: []store.Limit{req.Limits[1]}})
	e.mustRefuse(store.SendRequest{Limits: []store.Limit{req.Limits[1]}}, 0, window)
}

func testReleaseKeepsNewerCode(t *testing.T, e *env) {
	lim := e.limit("n", 2, window)
	first := store.SendRequest{Limits: []store.Limit{lim}, Code: e.code("c", "1", 3)}
	second := store.SendRequest{Limits: []store.Limit{lim}, Code: e.code("c", "2", 3)}
	r1 := e.mustAllow(first)
	r2 := e.mustAllow(second)
	if r1.Reservation == r2.Reservation {
		t.Fatalf("two sends got the same Reservation %q", r1.Reservation)
	}
	e.release(first, r1)
	// The count came back, but the newer code stays pending.
	e.mustAllow(store.SendRequest{Limits: []store.Limit{lim}})
	e.mustRefuse(store.SendRequest{Limits: []store.Limit{lim}}, 0, window)
	e.wantVerify("c", "2", store.VerifyOK)
}

func testReleaseRefused(t *testing.T, e *env) {
	req := store.SendRequest{Limits: []store.Limit{e.limit("n", 1, window)}, Code: e.code("c", "1", 3)}
	e.mustAllow(req)
	refused := e.mustRefuse(store.SendRequest{Limits: req.Limits, Code: e.code("c", "2", 3)}, 0, window)
	e.release(store.SendRequest{Limits: req.Limits, Code: e.code("c", "2", 3)}, refused)
	e.mustRefuse(req, 0, window)
	e.wantVerify("c", "1", store.VerifyOK)
}

func testReserveWithoutCode(t *testing.T, e *env) {
	// A request without a code key only counts (e.g. a limit on verify
	// attempts per IP); Release then only gives the counts back.
	req := store.SendRequest{Limits: []store.Limit{e.limit("n", 1, window)}}
	res := e.mustAllow(req)
	e.release(req, res)
	e.mustAllow(req)
	e.mustRefuse(req, 0, window)
}

func testVerifyConsumes(t *testing.T, e *env) {
	e.wantVerify("never", "1", store.VerifyNotFound)
	e.mustAllow(store.SendRequest{Code: e.code("c", "123456", 3)})
	e.wantVerify("c", "123456", store.VerifyOK)
	e.wantVerify("c", "123456", store.VerifyNotFound)
}

func testVerifyWrong(t *testing.T, e *env) {
	e.mustAllow(store.SendRequest{Code: e.code("c", "right", 3)})
	e.wantVerify("c", "wrong", store.VerifyWrong)
	e.wantVerify("c", "wrong", store.VerifyWrong)
	e.wantVerify("c", "right", store.VerifyOK)
}

// A store may keep hashes in a form of its own, but a hash matches only
// itself: not a longer or shorter one, nor its own SHA-256.
func testVerifyHashLengths(t *testing.T, e *env) {
	ctx := context.Background()
	for i, h := range [][]byte{[]byte("short-hash"), bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 64)} {
		key := e.key(fmt.Sprint("len-", i))
		e.mustAllow(store.SendRequest{Code: store.Code{Key: key, Hash: h, TTL: time.Minute, MaxAttempts: 5}})
		sum := sha256.Sum256(h)
		for _, wrong := range [][]byte{sum[:], h[:len(h)-1], append(slices.Clone(h), 0)} {
			if got, err := e.s.Verify(ctx, store.VerifyRequest{Key: key, Hash: wrong}); err != nil || got.Outcome != store.VerifyWrong {
				t.Errorf("hash %x: Verify(%x) = %s, %v; want wrong", h, wrong, outcomeName(got.Outcome), err)
			}
		}
		if got, err := e.s.Verify(ctx, store.VerifyRequest{Key: key, Hash: h}); err != nil || got.Outcome != store.VerifyOK {
			t.Errorf("hash %x: Verify of itself = %s, %v; want ok", h, outcomeName(got.Outcome), err)
		}
	}
}

func testVerifyTooMany(t *testing.T, e *env) {
	e.mustAllow(store.SendRequest{Code: e.code("c", "right", 3)})
	for range 3 {
		e.wantVerify("c", "wrong", store.VerifyWrong)
	}
	e.wantVerify("c", "right", store.VerifyTooManyAttempts)
	e.wantVerify("c", "wrong", store.VerifyTooManyAttempts)
}

func testVerifyExpired(t *testing.T, e *env) {
	c := e.code("c", "1", 3)
	c.TTL = window / 2
	e.mustAllow(store.SendRequest{Code: c})
	e.advance(c.TTL + past)
	e.wantVerify("c", "1", store.VerifyNotFound)
}

func testNewReserveReplaces(t *testing.T, e *env) {
	e.mustAllow(store.SendRequest{Code: e.code("c", "1", 2)})
	e.wantVerify("c", "x", store.VerifyWrong)
	e.wantVerify("c", "x", store.VerifyWrong)
	e.wantVerify("c", "1", store.VerifyTooManyAttempts)
	// A new send replaces the dead code and starts a fresh attempt count.
	e.mustAllow(store.SendRequest{Code: e.code("c", "2", 2)})
	e.wantVerify("c", "1", store.VerifyWrong)
	e.wantVerify("c", "2", store.VerifyOK)
}

func testUseOnce(t *testing.T, e *env) {
	ttl := window / 2
	if !e.useOnce("token", ttl) {
		t.Error("first UseOnce = false")
	}
	if e.useOnce("token", ttl) {
		t.Error("second UseOnce = true")
	}
	if !e.useOnce("other", ttl) {
		t.Error("UseOnce of another key = false")
	}
	e.advance(ttl + past)
	if !e.useOnce("token", ttl) {
		t.Error("UseOnce after ttl = false")
	}
	if e.useOnce("token", ttl) {
		t.Error("UseOnce right after that = true")
	}
}

func testHashTagKeys(t *testing.T, e *env) {
	// Keys as the pipeline builds them, with odd characters and braces
	// after the tag (only the first {...} is the tag).
	names := []string{"send:+86 138-0000-0000", "{nested}:code", "手机:登录", "}{"}
	var limits []store.Limit
	for _, n := range names {
		limits = append(limits, e.limit(n+":limit", 1, window))
	}
	e.mustAllow(store.SendRequest{Limits: limits, Code: e.code(names[1], "1", 3)})
	e.mustRefuse(store.SendRequest{Limits: limits[3:]}, 0, window)
	e.wantVerify(names[1], "1", store.VerifyOK)
	if !e.useOnce(names[2], window) || e.useOnce(names[2], window) {
		t.Error("UseOnce on a tagged key")
	}
}

func testConcurrentReserve(t *testing.T, e *env) {
	const n = 100
	lim := e.limit("n", 1, 10*time.Second)
	var allowed sync.Map
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			v := fmt.Sprint(i)
			res, err := e.s.Reserve(context.Background(), store.SendRequest{Limits: []store.Limit{lim}, Code: e.code("c", v, 3)})
			if err != nil {
				errs <- err
				return
			}
			if res.Allowed {
				allowed.Store(v, true)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Reserve: %v", err)
	}
	var winners []string
	allowed.Range(func(k, _ any) bool { winners = append(winners, k.(string)); return true })
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent sends allowed under Max 1, want 1", len(winners), n)
	}
	// The refused sends did not replace the winner's code.
	e.wantVerify("c", winners[0], store.VerifyOK)
}

func testConcurrentVerify(t *testing.T, e *env) {
	const n = 20
	e.mustAllow(store.SendRequest{Code: e.code("c", "1", 3)})
	counts := make(map[store.VerifyOutcome]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			out, err := e.s.Verify(context.Background(), store.VerifyRequest{Key: e.key("c"), Hash: hash("1")})
			if err != nil {
				t.Errorf("Verify: %v", err)
				return
			}
			mu.Lock()
			counts[out.Outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[store.VerifyOK] != 1 || counts[store.VerifyNotFound] != n-1 {
		t.Fatalf("outcomes of %d concurrent right guesses: %v, want one OK and the rest NotFound", n, counts)
	}
}

func testContextCancelled(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := store.SendRequest{Limits: []store.Limit{e.limit("n", 1, window)}, Code: e.code("c", "1", 1)}
	wantCanceled := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", op, err)
		}
	}
	_, err := e.s.Reserve(ctx, req)
	wantCanceled("Reserve", err)
	// Nothing happened: the limit has room and no code is pending.
	e.wantVerify("c", "1", store.VerifyNotFound)
	res := e.mustAllow(req)
	wantCanceled("Release", e.s.Release(ctx, req, res))
	_, err = e.s.Verify(ctx, store.VerifyRequest{Key: e.key("c"), Hash: hash("wrong")})
	wantCanceled("Verify", err)
	_, err = e.s.UseOnce(ctx, e.key("t"), window)
	wantCanceled("UseOnce", err)
	wantCanceled("Ping", e.s.Ping(ctx))
	wantCanceled("Put", e.s.Put(ctx, e.key("v"), []byte("x"), window))
	_, _, err = e.s.Take(ctx, e.key("v"))
	wantCanceled("Take", err)
	// The cancelled calls changed nothing: the release did not happen, the
	// wrong guess was not counted (MaxAttempts 1), the token is unused.
	e.mustRefuse(req, 0, window)
	e.wantVerify("c", "1", store.VerifyOK)
	if !e.useOnce("t", window) {
		t.Error("UseOnce after a cancelled UseOnce = false")
	}
}

func testInvalid(t *testing.T, e *env) {
	ctx := context.Background()
	good := func() store.SendRequest {
		return store.SendRequest{Limits: []store.Limit{e.limit("n", 1, window)}, Code: e.code("c", "1", 3)}
	}
	bad := map[string]func(*store.SendRequest){
		"limit without key":   func(r *store.SendRequest) { r.Limits[0].Key = "" },
		"Max 0":               func(r *store.SendRequest) { r.Limits[0].Max = 0 },
		"Window 0":            func(r *store.SendRequest) { r.Limits[0].Window = 0 },
		"sub-ms Window":       func(r *store.SendRequest) { r.Limits[0].Window = time.Microsecond },
		"negative Block":      func(r *store.SendRequest) { r.Limits[0].Block = -time.Second },
		"code TTL 0":          func(r *store.SendRequest) { r.Code.TTL = 0 },
		"code MaxAttempts 0":  func(r *store.SendRequest) { r.Code.MaxAttempts = 0 },
		"code without hash":   func(r *store.SendRequest) { r.Code.Hash = nil },
		"limit key twice":     func(r *store.SendRequest) { r.Limits = append(r.Limits, r.Limits[0]) },
		"code key is a limit": func(r *store.SendRequest) { r.Code.Key = r.Limits[0].Key },
	}
	wantInvalid := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrInvalid and not ErrUnavailable", op, err)
		}
	}
	for name, mutate := range bad {
		req := good()
		mutate(&req)
		_, err := e.s.Reserve(ctx, req)
		wantInvalid("Reserve with "+name, err)
	}
	_, err := e.s.UseOnce(ctx, e.key("t"), 0)
	wantInvalid("UseOnce with ttl 0", err)
	_, err = e.s.UseOnce(ctx, "", window)
	wantInvalid("UseOnce with empty key", err)
	_, err = e.s.Verify(ctx, store.VerifyRequest{Hash: hash("1")})
	wantInvalid("Verify with empty key", err)
	vl := store.VerifyLimit{Limit: e.limit("n", 1, window)}
	for name, req := range map[string]store.VerifyRequest{
		"an empty source":   {Key: e.key("c"), Hash: hash("1"), Sources: []string{"ip", ""}},
		"too many sources":  {Key: e.key("c"), Hash: hash("1"), Sources: []string{"a", "b", "c", "d", "e"}},
		"a limit of Max 0":  {Key: e.key("c"), Hash: hash("1"), Limits: []store.VerifyLimit{{Limit: store.Limit{Key: e.key("v"), Window: window}}}},
		"the code as limit": {Key: vl.Key, Hash: hash("1"), Limits: []store.VerifyLimit{vl}},
		"a limit key twice": {Key: e.key("c"), Hash: hash("1"), Limits: []store.VerifyLimit{vl, vl}},
		// Verify never blocks (redisstore's script has no Block), so a
		// Block would mean one thing in memory and another in Redis.
		"a limit with Block": {Key: e.key("c"), Hash: hash("1"), Limits: []store.VerifyLimit{{Limit: store.Limit{Key: e.key("v"), Max: 1, Window: window, Block: window}}}},
	} {
		_, err = e.s.Verify(ctx, req)
		wantInvalid("Verify with "+name, err)
	}
	// None of them counted: the good request is allowed exactly once.
	e.mustAllow(good())
	e.mustRefuse(good(), 0, window)
}

func testPing(t *testing.T, e *env) {
	if err := e.s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// A code takes MaxAttempts wrong guesses from each source: once one of a
// caller's sources has spent them, the code is dead for that caller, and
// alive for a caller whose sources are all fresh. A new code starts the
// counts again.
func testVerifyPerSource(t *testing.T, e *env) {
	e.mustAllow(store.SendRequest{Code: e.code("c", "right", 3)})
	stranger := []string{"ip:s", "dev:s"}
	for range 3 {
		if got := e.verifyFrom("c", "wrong", stranger).Outcome; got != store.VerifyWrong {
			t.Fatalf("stranger's guess = %s, want wrong", outcomeName(got))
		}
	}
	for _, src := range [][]string{stranger, {"ip:s", "dev:other"}, {"ip:other", "dev:s"}} {
		if got := e.verifyFrom("c", "right", src).Outcome; got != store.VerifyTooManyAttempts {
			t.Errorf("sources %v after 3 wrong = %s, want too many attempts", src, outcomeName(got))
		}
	}
	// The owner's sources are fresh: the code is alive for them.
	if got := e.verifyFrom("c", "right", []string{"ip:o", "dev:o"}).Outcome; got != store.VerifyOK {
		t.Errorf("owner after a stranger's 3 wrong = %s, want ok", outcomeName(got))
	}
	// A new code: the stranger's sources start again.
	e.mustAllow(store.SendRequest{Code: e.code("c", "new", 3)})
	if got := e.verifyFrom("c", "new", stranger).Outcome; got != store.VerifyOK {
		t.Errorf("stranger on a new code = %s, want ok", outcomeName(got))
	}
}

// A limit marked AnyFailure counts wrong codes, missing codes and dead
// codes; the others count wrong codes only; a right code counts nothing.
func testVerifyLimits(t *testing.T, e *env) {
	anyF := store.VerifyLimit{Limit: e.limit("ip", 4, window), AnyFailure: true}
	wrongOnly := store.VerifyLimit{Limit: e.limit("num", 2, window)}
	src := []string{"s"}
	e.mustAllow(store.SendRequest{Code: e.code("c", "right", 1)})
	if got := e.verifyFrom("nothing", "x", src, anyF, wrongOnly).Outcome; got != store.VerifyNotFound { // any: 1
		t.Fatalf("no code = %s", outcomeName(got))
	}
	if got := e.verifyFrom("c", "x", src, anyF, wrongOnly).Outcome; got != store.VerifyWrong { // any: 2, wrong: 1
		t.Fatalf("wrong = %s", outcomeName(got))
	}
	if got := e.verifyFrom("c", "right", src, anyF, wrongOnly).Outcome; got != store.VerifyTooManyAttempts { // any: 3, wrong stays 1
		t.Fatalf("dead = %s", outcomeName(got))
	}
	e.mustAllow(store.SendRequest{Code: e.code("c", "right", 1)})
	if got := e.verifyFrom("c", "right", src, anyF, wrongOnly).Outcome; got != store.VerifyOK { // counts nothing
		t.Fatalf("right = %s (had the dead code counted as a wrong one?)", outcomeName(got))
	}
	if got := e.verifyFrom("gone", "x", src, anyF, wrongOnly).Outcome; got != store.VerifyNotFound { // any: 4
		t.Fatalf("no code = %s", outcomeName(got))
	}
	// The any-failure limit is full only if the dead code counted.
	res := e.verifyFrom("c", "x", src, wrongOnly, anyF)
	if res.Outcome != store.VerifyRefused || res.Refused != 1 || res.RetryAfter <= 0 || res.RetryAfter > window {
		t.Fatalf("fifth failure = %s (limit %d, %v), want refused by limit 1", outcomeName(res.Outcome), res.Refused, res.RetryAfter)
	}
	// The wrong-only limit has one more: its second wrong code fills it.
	e.mustAllow(store.SendRequest{Code: e.code("c2", "right", 5)})
	if got := e.verifyFrom("c2", "x", src, wrongOnly).Outcome; got != store.VerifyWrong {
		t.Fatalf("second wrong = %s", outcomeName(got))
	}
	if got := e.verifyFrom("c2", "right", src, wrongOnly); got.Outcome != store.VerifyRefused || got.Refused != 0 {
		t.Fatalf("after 2 wrong = %s, want refused by limit 0", outcomeName(got.Outcome))
	}
	// The windows end; the code (valid a minute) is still pending.
	e.advance(window + past)
	if got := e.verifyFrom("c2", "right", src, anyF, wrongOnly).Outcome; got != store.VerifyOK {
		t.Errorf("after the window = %s, want ok", outcomeName(got))
	}
}

// A full limit refuses before the compare: the right code is neither
// accepted nor consumed, and the refusal counts nothing, neither against
// the limit nor against the code's attempts (MaxAttempts 2: one wrong and
// one counted refusal would kill it).
func testVerifyLimitRefuses(t *testing.T, e *env) {
	lim := store.VerifyLimit{Limit: e.limit("n", 1, window), AnyFailure: true}
	e.mustAllow(store.SendRequest{Code: e.code("c", "right", 2)})
	if got := e.verifyFrom("c", "x", nil, lim).Outcome; got != store.VerifyWrong {
		t.Fatalf("first = %s", outcomeName(got))
	}
	for range 3 {
		if got := e.verifyFrom("c", "wrong", nil, lim); got.Outcome != store.VerifyRefused || got.Refused != 0 {
			t.Fatalf("wrong code at a full limit = %s, want refused", outcomeName(got.Outcome))
		}
		if got := e.verifyFrom("c", "right", nil, lim); got.Outcome != store.VerifyRefused || got.Refused != 0 {
			t.Fatalf("right code at a full limit = %s, want refused", outcomeName(got.Outcome))
		}
	}
	e.wantVerify("c", "right", store.VerifyOK)
}

// Wrong-only limits that the caller shares between codes (the sender's
// wrong codes per number and source per day, across scenarios) count the
// compared wrong codes at any of them, and nothing else: not a missing
// code, not a code dead for the caller, not an attempt another limit
// refused. Once full, they refuse at every code, even the right one, while
// a caller under other such limits still verifies.
func testVerifyWrongOnlyAcrossCodes(t *testing.T, e *env) {
	ip := store.VerifyLimit{Limit: e.limit("num:ip:a", 3, window)}
	dev := store.VerifyLimit{Limit: e.limit("num:dev:a", 3, window)}
	full := store.VerifyLimit{Limit: e.limit("other", 1, window), AnyFailure: true}
	src := []string{"ip:a", "dev:a"}
	for _, c := range []string{"c1", "c2", "c3"} {
		e.mustAllow(store.SendRequest{Code: e.code(c, "right-"+c, 1)})
	}
	steps := []struct {
		code, value string
		limits      []store.VerifyLimit
		want        store.VerifyOutcome
	}{
		{"c1", "x", []store.VerifyLimit{ip, dev}, store.VerifyWrong},                  // 1
		{"c1", "right-c1", []store.VerifyLimit{ip, dev}, store.VerifyTooManyAttempts}, // dead: still 1
		{"none", "x", []store.VerifyLimit{ip, dev}, store.VerifyNotFound},             // missing: still 1
		{"c2", "x", []store.VerifyLimit{full, ip, dev}, store.VerifyWrong},            // 2, fills "other"
		{"c2", "x", []store.VerifyLimit{full, ip, dev}, store.VerifyRefused},          // refused: still 2
		{"c3", "x", []store.VerifyLimit{ip, dev}, store.VerifyWrong},                  // 3: full
	}
	for i, s := range steps {
		if got := e.verifyFrom(s.code, s.value, src, s.limits...).Outcome; got != s.want {
			t.Fatalf("step %d (%s): %s, want %s", i, s.code, outcomeName(got), outcomeName(s.want))
		}
	}
	e.mustAllow(store.SendRequest{Code: e.code("c4", "right-c4", 5)})
	for _, l := range []store.VerifyLimit{ip, dev} {
		if got := e.verifyFrom("c4", "right-c4", src, l); got.Outcome != store.VerifyRefused || got.Refused != 0 {
			t.Fatalf("right code of a fresh code under a full %s = %s, want refused", l.Key, outcomeName(got.Outcome))
		}
	}
	// Another caller, under limits of its own, is not refused.
	other := []store.VerifyLimit{{Limit: e.limit("num:ip:b", 3, window)}, {Limit: e.limit("num:dev:b", 3, window)}}
	if got := e.verifyFrom("c4", "right-c4", []string{"ip:b", "dev:b"}, other...).Outcome; got != store.VerifyOK {
		t.Errorf("another caller = %s, want ok", outcomeName(got))
	}
}

// Concurrent wrong guesses under a limit of Max m: exactly m are compared.
func testConcurrentWrongGuesses(t *testing.T, e *env) {
	const n, m = 40, 7
	lim := store.VerifyLimit{Limit: e.limit("n", m, window)}
	e.mustAllow(store.SendRequest{Code: e.code("c", "right", 1000)})
	var mu sync.Mutex
	counts := map[store.VerifyOutcome]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := e.s.Verify(context.Background(), store.VerifyRequest{
				Key: e.key("c"), Hash: hash("wrong"), Sources: []string{fmt.Sprint("src-", i)}, Limits: []store.VerifyLimit{lim}})
			if err != nil {
				t.Errorf("Verify: %v", err)
				return
			}
			mu.Lock()
			counts[res.Outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[store.VerifyWrong] != m || counts[store.VerifyRefused] != n-m {
		t.Fatalf("outcomes of %d concurrent wrong guesses under Max %d: %v", n, m, counts)
	}
}
