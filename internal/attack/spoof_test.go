package attack

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
)

const (
	victim     = "12345678901"
	victimE164 = "+8612345678901"
)

// Guessing a code from one connection address that claims to be many:
// the attempt cap counts per client address (and per device), and the
// address is the connection's, so 40 wrong guesses with 40 different
// X-Forwarded-For, X-device-ip and X-device-fingerprint values get 5
// VERIFY.0001 and then 429 VERIFY.0008, the right code is refused afterwards
// from that address, and no guess is ever answered 200. (From another
// address the owner still verifies: TestStrangerCannotKillTheVictimsCode.)
func TestBruteForceFromManyCallersStopsAtAttemptCap(t *testing.T) {
	tg := start(t)
	want(t, tg.send(t, victim, bind, nil), http.StatusOK, "")
	msg, ok := tg.Outbox.Last(victimE164)
	if !ok {
		t.Fatal("no SMS for the send")
	}
	const guesses, maxAttempts = 40, 5
	counts := map[gen.ErrorCode]int{}
	for i := 0; i < guesses; i++ {
		// Every guess looks like a new person: address, device, both IP
		// headers. The code guessed is always wrong.
		guess := fmt.Sprintf("%06d", i)
		if guess == msg.Code {
			guess = wrong(msg.Code)
		}
		r := tg.verify(t, victim, bind, guess, map[string]string{
			"X-Forwarded-For":      fmt.Sprintf("198.51.100.%d", i+1),
			"X-device-ip":          fmt.Sprintf("203.0.113.%d", i+1),
			"X-device-fingerprint": fmt.Sprintf("attacker-device-%d", i),
		})
		if i < maxAttempts {
			want(t, r, http.StatusBadRequest, gen.ErrorCodeCodeWrong)
		} else {
			want(t, r, http.StatusTooManyRequests, gen.ErrorCodeVerifyCallerNumberDailyLimit)
		}
		counts[r.Code]++
	}
	if counts[gen.ErrorCodeCodeWrong] != maxAttempts || counts[gen.ErrorCodeVerifyCallerNumberDailyLimit] != guesses-maxAttempts {
		t.Errorf("answers %v", counts)
	}
	// The right code is dead for this address too: the cap is on the
	// caller's address, whatever its headers say.
	want(t, tg.verify(t, victim, bind, msg.Code, nil), http.StatusTooManyRequests, gen.ErrorCodeVerifyCallerNumberDailyLimit)
	if n := tg.Outbox.Count(); n != 1 {
		t.Errorf("%d SMS sent, want 1", n)
	}
}

// The per-IP send limit counts the address the server trusts: the
// connection's, or behind a trusted proxy the first untrusted
// X-Forwarded-For hop from the right. Headers a client writes itself
// (X-Forwarded-For without a trusted proxy, X-device-ip always) do not
// give it a new budget.
func TestIPLimitCannotBeEscapedWithHeaders(t *testing.T) {
	const perHour = 3
	tests := []struct {
		name    string
		proxies []string
		// hdr is the headers of request i (from 0); request perHour and
		// later ones are expected to be refused when over is true.
		hdr  func(i int) map[string]string
		over bool
	}{
		{
			name: "XFF changes, no trusted proxy",
			hdr: func(i int) map[string]string {
				return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}
			},
			over: true,
		},
		{
			name: "X-device-ip changes, no trusted proxy",
			hdr: func(i int) map[string]string {
				return map[string]string{"X-device-ip": fmt.Sprintf("203.0.113.%d", i+1)}
			},
			over: true,
		},
		{
			name:    "X-device-ip changes behind a trusted proxy",
			proxies: []string{"127.0.0.1/32"},
			hdr: func(i int) map[string]string {
				return map[string]string{"X-Forwarded-For": "198.51.100.7", "X-device-ip": fmt.Sprintf("203.0.113.%d", i+1)}
			},
			over: true,
		},
		{
			// The client prepends made-up hops; the proxy appends the
			// real one, which is what counts.
			name:    "spoofed hops before the proxy's, trusted proxy",
			proxies: []string{"127.0.0.1/32"},
			hdr: func(i int) map[string]string {
				return map[string]string{"X-Forwarded-For": fmt.Sprintf("10.0.0.%d, 198.51.100.7", i+1)}
			},
			over: true,
		},
		{
			// Behind a trusted proxy, the clients it reports are
			// different clients: each has its own budget.
			name:    "different clients behind a trusted proxy",
			proxies: []string{"127.0.0.1/32"},
			hdr: func(i int) map[string]string {
				return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}
			},
			over: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := start(t, servertest.WithConfig(func(c *config.Config) {
				c.Limits.IPPerHour = perHour
				c.HTTP.TrustedProxies = tt.proxies
			}))
			for i := 0; i <= perHour+2; i++ {
				h := tt.hdr(i)
				// A new device and number each time, so that only the IP
				// limit can refuse.
				h["X-device-fingerprint"] = fmt.Sprintf("device-%d", i)
				r := tg.send(t, fmt.Sprintf("1380000000%d", i), login, h)
				if tt.over && i >= perHour {
					want(t, r, http.StatusTooManyRequests, gen.ErrorCodeIPLimit)
				} else {
					want(t, r, http.StatusOK, "")
				}
			}
		})
	}
}

// One number, one answer: a number accepted in one spelling is accepted
// in its E.164 form, which is where the SMS goes, and refused in both
// otherwise. "+86 0760 0000 0000" writes the mainland landline
// +86 760 0000 0000 with its trunk prefix; the default policy refuses that
// number in E.164 ("11-digit mainland numbers start with 1"), so an SMS
// must not be sent to it because the trunk prefix was kept. Found by
// server/phone's FuzzParse (input "+86076000000000").
func TestNumberSpellingsGetOneAnswer(t *testing.T) {
	tests := []struct {
		name, mobile string
	}{
		{"with the trunk prefix", "+86076000000000"},
		{"E.164", "+8676000000000"},
	}
	tg := start(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tg.send(t, tt.mobile, login, map[string]string{"X-device-fingerprint": fmt.Sprintf("spelling-%d", i)})
			want(t, r, http.StatusBadRequest, gen.ErrorCodeMobileInvalid)
		})
	}
	if n := tg.Outbox.Count(); n != 0 {
		t.Errorf("%d SMS sent to a number the server refuses: %+v", n, tg.Outbox.Messages())
	}
}
