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

// 300 wrong guesses from one client IP, each from a new device, half of
// them at the victim's code and half at other numbers (none pending): 5
// are compared with the victim's code (the address's wrong codes per
// number per day), after which that number answers 429 VERIFY.0008; the
// address's failures stop at 50 an hour (5 wrong + 45 with no code), after
// which the other numbers answer 429 VERIFY.0005. None is compared beyond
// the 5. The victim, on another address and device, then verifies its code.
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
	perIP, perCaller := sender.DefaultLimits.VerifyIPPerHour, 5
	counts := map[gen.ErrorCode]int{}
	start := time.Now()
	for i := 0; i < guesses; i++ {
		mobile := victim
		if i%2 == 1 {
			mobile = fmt.Sprintf("1390000%04d", i)
		}
		r := tg.postFrom(t, cs.from(9), verifyPath,
			headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("bot-%d", i)}),
			verifyBody(mobile, bind, wrong(msg.Code)))
		if r.Status == http.StatusOK {
			t.Fatalf("guess %d verified", i)
		}
		counts[r.Code]++
		if r.Status == http.StatusTooManyRequests {
			if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 3500 || ra > 86400 {
				t.Fatalf("guess %d: Retry-After %q, want an hour or a day", i, r.Header.Get("Retry-After"))
			}
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d wrong guesses from one IP in %v (%.0f/s): %d compared with the victim's code (VERIFY.0001), %d with no code (VERIFY.0002), refused 429: %d for the victim's number (VERIFY.0008), %d for the address (VERIFY.0005)",
		guesses, elapsed.Round(time.Millisecond), guesses/elapsed.Seconds(),
		counts[gen.ErrorCodeCodeWrong], counts[gen.ErrorCodeCodeExpired],
		counts[gen.ErrorCodeVerifyCallerNumberDailyLimit], counts[gen.ErrorCodeVerifyIPLimit])
	wantCounts := map[gen.ErrorCode]int{
		gen.ErrorCodeCodeWrong:                    perCaller,
		gen.ErrorCodeVerifyCallerNumberDailyLimit: guesses/2 - perCaller,
		gen.ErrorCodeCodeExpired:                  int(perIP) - perCaller,
		gen.ErrorCodeVerifyIPLimit:                guesses/2 - (int(perIP) - perCaller),
	}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("answers %v, want %v", counts, wantCounts)
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

// guessUntilRefused guesses wrong codes at mobile's code for scenario,
// from cl with the device fingerprints dev(0), dev(1)..., until the answer
// is no longer VERIFY.0001, and returns how many were compared and the
// answer that ended it. It gives up after 100 guesses.
func (tg *target) guessUntilRefused(t *testing.T, cl *http.Client, mobile, scenario, code string, dev func(g int) string) (int, reply) {
	t.Helper()
	for g := 0; g < 100; g++ {
		r := tg.postFrom(t, cl, verifyPath, headers(map[string]string{"X-device-fingerprint": dev(g)}),
			verifyBody(mobile, scenario, wrong(code)))
		if r.Status == http.StatusOK {
			t.Fatalf("a wrong guess verified: %s", r)
		}
		if r.Code != gen.ErrorCodeCodeWrong {
			return g, r
		}
	}
	t.Fatalf("100 wrong guesses from one caller were all compared")
	return 0, reply{}
}

var allScenarios = []string{"REGISTER_SMS", "LOGIN_SMS", "FORGET_PWD_SMS", "BIND_MOBILE_SMS", "UPDATE_MOBILE_SMS", "OTP_REST_SMS"}

// A stranger's wrong guesses neither kill the victim's code nor lock the
// victim out, from one address or one device, however many codes they
// send: the attacker sends a code to the victim's number in each of the
// six scenarios (the victim's own pending code is the sixth) and, from one
// address with a new device per guess, or from one device with a new
// address per guess, guesses at each until it is refused. Each way gets 5
// wrong codes compared for the number that day (the code's max_attempts),
// then 429 VERIFY.0008, and the victim verifies its code. Locking the
// victim out takes the number's whole daily budget, 20 wrong codes, which
// needs 20/5 = 4 addresses and 4 devices: the test pays that, guessing from
// each address until it is refused, and shows the victim then gets 429
// VERIFY.0007 — the price, printed, of bounding brute force.
func TestStrangerCannotKillTheVictimsCode(t *testing.T) {
	tg := start(t)
	cs := newCallers(t)
	victimHdr := headers(map[string]string{"X-device-fingerprint": "victim-phone"})
	maxAttempts := 5 // the default code max_attempts
	perNumber := int(sender.DefaultLimits.VerifyNumberDaily)
	attackers := []struct {
		name string
		from func(g int) *http.Client
		dev  func(g int) string
	}{
		{"one address, a new device per guess", func(int) *http.Client { return cs.from(3) }, func(g int) string { return fmt.Sprint("s-", g) }},
		{"one device, a new address per guess", func(g int) *http.Client { return cs.from(100 + g) }, func(int) string { return "s-one" }},
	}
	for _, at := range attackers {
		tg.Clock.Advance(25 * time.Hour) // fresh daily budgets
		want(t, tg.postFrom(t, cs.from(2), sendPath, victimHdr, sendBody(victim, bind)), http.StatusOK, "")
		msg, _ := tg.Outbox.Last(victimE164)
		victimCode := msg.Code
		codes := map[string]string{bind: victimCode}
		for _, sc := range allScenarios {
			if sc != bind { // the cooldown is per scenario: back to back
				want(t, tg.postFrom(t, cs.from(4), sendPath, headers(map[string]string{"X-device-fingerprint": "s-sender"}), sendBody(victim, sc)), http.StatusOK, "")
				m, _ := tg.Outbox.Last(victimE164)
				codes[sc] = m.Code
			}
		}
		compared, g := 0, 0
		for _, sc := range allScenarios {
			for {
				r := tg.postFrom(t, at.from(g), verifyPath, headers(map[string]string{"X-device-fingerprint": at.dev(g)}),
					verifyBody(victim, sc, wrong(codes[sc])))
				g++
				if r.Code == gen.ErrorCodeCodeWrong {
					compared++
					continue
				}
				want(t, r, http.StatusTooManyRequests, gen.ErrorCodeVerifyCallerNumberDailyLimit)
				break
			}
		}
		t.Logf("%s, across %d codes in %d scenarios (the victim's included): %d wrong codes compared, then 429 VERIFY.0008 at every code",
			at.name, len(codes), len(allScenarios), compared)
		if compared != maxAttempts {
			t.Errorf("%s: %d wrong codes compared, want %d (the code's max_attempts, per number per day)", at.name, compared, maxAttempts)
		}
		want(t, tg.postFrom(t, cs.from(2), verifyPath, victimHdr, verifyBody(victim, bind, victimCode)), http.StatusOK, "")
	}

	// The lock-out, and what it costs: from each new address (a new
	// device per guess), guess until refused, until the victim is refused.
	tg.Clock.Advance(25 * time.Hour)
	want(t, tg.postFrom(t, cs.from(2), sendPath, victimHdr, sendBody(victim, bind)), http.StatusOK, "")
	msg, _ := tg.Outbox.Last(victimE164)
	spent, addrs, devices := 0, 0, 0
	for a := 0; ; a++ {
		if a == 50 {
			t.Fatal("50 addresses and the number's budget is not spent")
		}
		n, r := tg.guessUntilRefused(t, cs.from(20+a), victim, bind, msg.Code, func(g int) string { return fmt.Sprintf("l-%d-%d", a, g) })
		if n > maxAttempts {
			t.Errorf("address %d had %d wrong codes compared, want at most %d", a, n, maxAttempts)
		}
		spent += n
		devices += n
		if n > 0 {
			addrs++
		}
		if r.Code == gen.ErrorCodeVerifyNumberDailyLimit {
			break
		}
		want(t, r, http.StatusTooManyRequests, gen.ErrorCodeVerifyCallerNumberDailyLimit)
	}
	r := tg.postFrom(t, cs.from(2), verifyPath, victimHdr, verifyBody(victim, bind, msg.Code))
	want(t, r, http.StatusTooManyRequests, gen.ErrorCodeVerifyNumberDailyLimit)
	t.Logf("locking the victim out for the day took %d wrong codes from %d client IPs (%d devices); the victim then got 429 %s, Retry-After %ss",
		spent, addrs, devices, r.Code, r.Header.Get("Retry-After"))
	if spent != perNumber || addrs < perNumber/maxAttempts {
		t.Errorf("the lock-out took %d wrong codes from %d addresses, want %d from at least %d", spent, addrs, perNumber, perNumber/maxAttempts)
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
