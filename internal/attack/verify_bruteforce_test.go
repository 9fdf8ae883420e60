package attack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/sender"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/store"
)

// Verification is an attack surface of its own: these tests guess codes as
// an attacker would, from one address and from many loopback addresses
// (127.0.0.0/8 is all on lo, so a test can open connections from 250
// source addresses, each a different client IP to the server), and print
// what the attacker got.

// callers hands out one HTTP client per loopback source address, so that
// the server sees each as a different client IP (no proxy is trusted: the
// connection's address is the one the limits count).
type callers struct {
	mu      sync.Mutex
	clients map[string]*http.Client
}

func newCallers(t *testing.T) *callers {
	c := &callers{clients: map[string]*http.Client{}}
	t.Cleanup(func() {
		for _, cl := range c.clients {
			cl.CloseIdleConnections()
		}
	})
	return c
}

// from returns the client whose connections come from 127.0.0.<n>.
func (c *callers) from(n int) *http.Client {
	ip := "127.0.0." + strconv.Itoa(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[ip]; ok {
		return cl
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	cl := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext}, Timeout: 15 * time.Second}
	c.clients[ip] = cl
	return cl
}

// postFrom is post from the given client.
func (tg *target) postFrom(t *testing.T, cl *http.Client, path string, h http.Header, body any) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tg.URL+path, bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{Status: res.StatusCode, Header: res.Header, Body: b}
	if r.Status >= 300 {
		r.Code = codeOf(b)
	}
	checkErrorBody(t, r)
	return r
}

func codeOf(b []byte) gen.ErrorCode {
	var e gen.Error
	_ = json.Unmarshal(b, &e)
	return e.ErrorCode
}

// 300 wrong guesses from one client IP, each from a new device: the first
// 50 (the per-IP limit of failed attempts per hour) are answered, 5 of them
// compared with the code (the per-caller cap), and the other 250 get 429
// VERIFY.0005 with Retry-After, none compared. The victim, on another
// address and device, then verifies its code.
func TestVerifyFloodFromOneIP(t *testing.T) {
	tg := start(t)
	cs := newCallers(t)
	victimHdr := headers(map[string]string{"X-device-fingerprint": "victim-phone"})
	want(t, tg.postFrom(t, cs.from(2), sendPath, victimHdr, sendBody(victim, bind)), http.StatusOK, "")
	msg, ok := tg.Outbox.Last(victimE164)
	if !ok {
		t.Fatal("no SMS")
	}
	const guesses = 300
	perIP := sender.DefaultLimits.VerifyIPPerHour
	counts := map[gen.ErrorCode]int{}
	start := time.Now()
	for i := 0; i < guesses; i++ {
		r := tg.postFrom(t, cs.from(9), verifyPath,
			headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("bot-%d", i)}),
			verifyBody(victim, bind, wrong(msg.Code)))
		if r.Status == http.StatusOK {
			t.Fatalf("guess %d verified", i)
		}
		counts[r.Code]++
		if int64(i) >= perIP {
			want(t, r, http.StatusTooManyRequests, gen.ErrorCodeVerifyIPLimit)
			if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 3500 || ra > 3600 {
				t.Fatalf("Retry-After %q, want about an hour", r.Header.Get("Retry-After"))
			}
		} else if r.Status == http.StatusTooManyRequests {
			t.Fatalf("guess %d refused before the limit of %d: %s", i, perIP, r)
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d wrong guesses from one IP in %v (%.0f/s): %d compared (VERIFY.0001), %d dead for this caller (VERIFY.0003), %d refused 429 (VERIFY.0005)",
		guesses, elapsed.Round(time.Millisecond), guesses/elapsed.Seconds(),
		counts[gen.ErrorCodeCodeWrong], counts[gen.ErrorCodeCodeAttemptsExceeded], counts[gen.ErrorCodeVerifyIPLimit])
	if counts[gen.ErrorCodeCodeWrong] != 5 || counts[gen.ErrorCodeVerifyIPLimit] != guesses-int(perIP) {
		t.Errorf("answers %v", counts)
	}
	want(t, tg.postFrom(t, cs.from(2), verifyPath, victimHdr, verifyBody(victim, bind, msg.Code)), http.StatusOK, "")
}

// Guesses for one number from 60 rotating client IPs and devices, 5 each
// (the per-caller cap), across resends of the code (the attacker asks for
// a new code whenever the cooldown allows, up to the daily send limit):
// however the guesses are spread, no more than the per-number daily limit
// (20) are compared with a code in a day; the rest get 429 VERIFY.0007.
// On the next day the budget is back, and no more.
func TestVerifyBruteForceFromRotatingAddressesIsBounded(t *testing.T) {
	tg := start(t)
	cs := newCallers(t)
	perDay, perYear := sender.VerifyBound(sender.DefaultLimits, 6)
	const addresses, perAddress = 60, 5
	compared, refused, codes := 0, 0, 0
	resend := func() string {
		tg.Clock.Advance(61 * time.Second)
		r := tg.postFrom(t, cs.from(250), sendPath, headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("sender-%d", codes)}),
			sendBody(victim, bind))
		if r.Status != http.StatusOK {
			return ""
		}
		codes++
		msg, _ := tg.Outbox.Last(victimE164)
		return msg.Code
	}
	for day := 0; day < 2; day++ {
		comparedToday := 0
		code := resend()
		for a := 0; a < addresses; a++ {
			if a%6 == 5 { // a new code every 30 guesses, while the daily send limit lasts
				if c := resend(); c != "" {
					code = c
				}
			}
			for g := 0; g < perAddress; g++ {
				r := tg.postFrom(t, cs.from(10+a), verifyPath,
					headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("bot-%d-%d-%d", day, a, g)}),
					verifyBody(victim, bind, wrong(code)))
				switch {
				case r.Status == http.StatusOK:
					t.Fatalf("a wrong guess verified: %s", r)
				case r.Code == gen.ErrorCodeCodeWrong:
					comparedToday++
				case r.Code == gen.ErrorCodeVerifyNumberDailyLimit:
					refused++
				default:
					t.Fatalf("guess from address %d: %s", a, r)
				}
			}
		}
		t.Logf("day %d: %d guesses from %d addresses against %d codes so far: %d compared, the rest refused (VERIFY.0007)",
			day+1, addresses*perAddress, addresses, codes, comparedToday)
		if int64(comparedToday) != perDay {
			t.Errorf("day %d: %d guesses compared, want the per-number daily limit %d", day+1, comparedToday, perDay)
		}
		compared += comparedToday
		tg.Clock.Advance(24 * time.Hour)
	}
	if codes < 5 {
		t.Errorf("only %d codes sent: the test no longer spreads guesses across resends", codes)
	}
	t.Logf("bound: %d guesses per number per day whatever the addresses, devices and resends; with 6-digit codes a %.3f %% chance per year (%d compared in 2 days, %d refused)",
		perDay, 100*perYear, compared, refused)
}

// A stranger's wrong guesses do not kill the victim's code: 10 wrong
// guesses from another address (5 compared, then VERIFY.0003 for the
// stranger only), and the victim verifies its code. Locking the victim out
// takes the number's whole daily budget, 20 wrong guesses, which needs 4
// addresses (5 each): the test pays that and shows the victim then gets
// 429 VERIFY.0007 — the price, printed, of bounding brute force.
func TestStrangerCannotKillTheVictimsCode(t *testing.T) {
	tg := start(t)
	cs := newCallers(t)
	victimHdr := headers(map[string]string{"X-device-fingerprint": "victim-phone"})
	sendCode := func() string {
		want(t, tg.postFrom(t, cs.from(2), sendPath, victimHdr, sendBody(victim, bind)), http.StatusOK, "")
		msg, _ := tg.Outbox.Last(victimE164)
		return msg.Code
	}
	code := sendCode()
	for i := 0; i < 10; i++ {
		r := tg.postFrom(t, cs.from(3), verifyPath, headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("s-%d", i)}),
			verifyBody(victim, bind, wrong(code)))
		wantCode := gen.ErrorCodeCodeWrong
		if i >= 5 {
			wantCode = gen.ErrorCodeCodeAttemptsExceeded
		}
		want(t, r, http.StatusBadRequest, wantCode)
	}
	want(t, tg.postFrom(t, cs.from(2), verifyPath, victimHdr, verifyBody(victim, bind, code)), http.StatusOK, "")
	t.Logf("10 wrong guesses by a stranger from another address: the victim's code still verified")

	// The lock-out, and what it costs.
	tg.Clock.Advance(61 * time.Second)
	code = sendCode()
	limit := int(sender.DefaultLimits.VerifyNumberDaily)
	// The first stranger's 5 compared guesses count towards the budget.
	wrongs, addrs := 5, map[int]bool{}
	for a := 0; wrongs < limit; a++ {
		addrs[a] = true
		for g := 0; g < 5 && wrongs < limit; g++ {
			r := tg.postFrom(t, cs.from(20+a), verifyPath, headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("l-%d-%d", a, g)}),
				verifyBody(victim, bind, wrong(code)))
			want(t, r, http.StatusBadRequest, gen.ErrorCodeCodeWrong)
			wrongs++
		}
	}
	r := tg.postFrom(t, cs.from(2), verifyPath, victimHdr, verifyBody(victim, bind, code))
	want(t, r, http.StatusTooManyRequests, gen.ErrorCodeVerifyNumberDailyLimit)
	t.Logf("locking the victim out for the day took %d wrong guesses from %d client IPs (the first stranger's included); the victim then got 429 %s, Retry-After %ss",
		limit, len(addrs)+1, r.Code, r.Header.Get("Retry-After"))
	if len(addrs)+1 < limit/5 {
		t.Errorf("the lock-out took only %d addresses", len(addrs)+1)
	}
}

// failingVerify is a store whose Verify fails as an unreachable backend does.
type failingVerify struct{ store.Store }

func (failingVerify) Verify(context.Context, store.VerifyRequest) (store.VerifyResult, error) {
	return store.VerifyResult{}, fmt.Errorf("redis: %w: %w", store.ErrUnavailable, errors.New("connection refused"))
}

// With the store down, verification fails closed: 503 SYS.0002, for the
// right code too, and nothing is verified.
func TestVerifyFailsClosedWhenStoreIsDown(t *testing.T) {
	var down bool
	var mu sync.Mutex
	isDown := func() bool { mu.Lock(); defer mu.Unlock(); return down }
	tg := start(t, func(s *servertest.Setup) {
		s.WrapStore = func(st store.Store) store.Store { return switchable{Store: st, down: isDown} }
	})
	want(t, tg.send(t, victim, bind, nil), http.StatusOK, "")
	msg, _ := tg.Outbox.Last(victimE164)
	mu.Lock()
	down = true
	mu.Unlock()
	for _, c := range []string{wrong(msg.Code), msg.Code} {
		want(t, tg.verify(t, victim, bind, c, nil), http.StatusServiceUnavailable, gen.ErrorCodeStoreUnavailable)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	want(t, tg.verify(t, victim, bind, msg.Code, nil), http.StatusOK, "")
}

// switchable fails Verify while down says so.
type switchable struct {
	store.Store
	down func() bool
}

func (s switchable) Verify(ctx context.Context, req store.VerifyRequest) (store.VerifyResult, error) {
	if s.down() {
		return failingVerify{}.Verify(ctx, req)
	}
	return s.Store.Verify(ctx, req)
}
