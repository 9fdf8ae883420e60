package altcha_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/server/captcha/altcha"
)

// TestAttackReplay: one solved challenge, replayed 200 times at once
// across two instances sharing Redis, sends one SMS (the fastest replay
// and the honest send race; exactly one wins).
func TestAttackReplay(t *testing.T) {
	in := startInstances(t, 2, true, nil)
	c := challenge(t, in[0].url)
	tok, _, _ := altcha.Solve(c)
	const tries = 200
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Different numbers: the number cooldown must not be what
			// stops the replays.
			mobile := "139" + leftPad(i, 8)
			switch status, code := send(t, in[i%2].url, mobile, tok); {
			case status == http.StatusOK:
				ok.Add(1)
			case code == "CAPTCHA.0004":
				refused.Add(1)
			default:
				t.Errorf("replay %d: %d %s", i, status, code)
			}
		}()
	}
	wg.Wait()
	t.Logf("replay of one solution: %d concurrent sends on 2 instances -> %d accepted, %d refused CAPTCHA.0004 (%v)",
		tries, ok.Load(), refused.Load(), time.Since(start).Round(time.Millisecond))
	if ok.Load() != 1 {
		t.Fatalf("%d sends accepted with one solution, want exactly 1", ok.Load())
	}
}

// TestAttackForgery: a bot that skips the work and signs its own
// challenges (an easy one, maxnumber 1, under guessed keys) or keeps a
// real challenge with a random signature, or splices a later expiry into
// a real salt, gets nothing through.
func TestAttackForgery(t *testing.T) {
	in := startInstances(t, 1, false, nil)
	base := in[0].url
	const tries = 300
	accepted := 0
	codes := map[string]int{}
	real := challenge(t, base)
	start := time.Now()
	for i := range tries {
		var tok string
		var key [32]byte
		_, _ = rand.Read(key[:])
		switch i % 3 {
		case 0: // a self-made easy challenge under a guessed key
			tok = altcha.EncodePayload(forge(hex.EncodeToString(key[:])), 1)
		case 1: // the real challenge, its number guessed, a random signature
			c := real
			c.Signature = hex.EncodeToString(key[:])
			tok = altcha.EncodePayload(c, int64(i))
		case 2: // the real challenge, the number guessed without the work
			tok = altcha.EncodePayload(real, int64(i)%(real.MaxNumber+1))
		}
		status, code := send(t, base, "139"+leftPad(i, 8), tok)
		if status == http.StatusOK {
			accepted++
		}
		codes[code]++
	}
	t.Logf("forgery: %d tokens without the work -> %d accepted; codes %v; random guess of the number would pass %.3f%% (1/(maxnumber+1)) (%v)",
		tries, accepted, codes, 100.0/float64(real.MaxNumber+1), time.Since(start).Round(time.Millisecond))
	// The guesses of case 2 share one challenge, which takes one try: the
	// first guess is CAPTCHA.0002 (or, with chance 1/(maxnumber+1), a
	// pass), every later one CAPTCHA.0004. Forged signatures never pass.
	if accepted > 1 || codes["CAPTCHA.0004"] < tries-2 {
		t.Fatalf("forgeries: %d accepted, codes %v", accepted, codes)
	}
}

// TestAttackCost prints what a bot pays per send at the default
// difficulty, with this package's solver (a tight Go loop over SHA-256,
// as fast as a plain bot on one core), and what a challenge costs the
// server to issue.
func TestAttackCost(t *testing.T) {
	in := startInstances(t, 1, false, nil)
	a := in[0].rt.Altcha
	const solves = 20
	var hashes int64
	start := time.Now()
	for range solves {
		c, err := a.Issue("x", altcha.DefaultMaxNumber)
		if err != nil {
			t.Fatal(err)
		}
		_, h, ok := altcha.Solve(c)
		if !ok {
			t.Fatal("unsolvable")
		}
		hashes += h
	}
	took := time.Since(start)
	perHash := took / time.Duration(hashes)
	t.Logf("cost to a bot at maxnumber %d: mean %d hashes, %.1f ms per solution on one core (%v per hash); %.0f sends/s/core at most",
		altcha.DefaultMaxNumber, hashes/solves, float64(took.Microseconds())/solves/1000, perHash,
		float64(solves)/took.Seconds())
	const issues = 2000
	start = time.Now()
	for range issues {
		if _, err := a.Issue("x", altcha.DefaultMaxNumber); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("cost to the server: %v per challenge issued (no store write)", time.Since(start)/issues)
	if time.Since(start)/issues > time.Millisecond {
		t.Fatalf("issuing a challenge took over 1 ms")
	}
}

func forge(key string) altcha.Challenge {
	salt := "00?expires=9999999999&"
	c := altcha.Challenge{Algorithm: "SHA-256", MaxNumber: 1, Salt: salt}
	c.Challenge = sha256Hex(salt + "1")
	c.Signature = hmacHex(key, c.Challenge)
	return c
}

func leftPad(i, n int) string {
	s := []byte{}
	for range n {
		s = append([]byte{byte('0' + i%10)}, s...)
		i /= 10
	}
	return string(s)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func hmacHex(key, s string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}
