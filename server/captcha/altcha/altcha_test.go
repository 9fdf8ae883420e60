package altcha

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/store/memstore"
)

// testKey is the key the vectors in testdata were made for.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// newTest returns an Altcha on a fresh memstore with a clock the test moves.
func newTest(t testing.TB) (*Altcha, *time.Time) {
	t.Helper()
	now := time.Unix(1_800_000_000, 0)
	st := memstore.New(memstore.Config{Now: func() time.Time { return now }})
	t.Cleanup(st.Close)
	a, err := New(Config{Key: testKey, Now: func() time.Time { return now }}, st)
	if err != nil {
		t.Fatal(err)
	}
	return a, &now
}

func code(err error) gen.ErrorCode {
	if err == nil {
		return ""
	}
	var e *apierr.Error
	if !errors.As(err, &e) {
		return "not an apierr"
	}
	return e.Code
}

func req(token string) captcha.Request {
	return captcha.Request{Token: token, ClientID: "demo-app", Mobile: "+8613800138000"}
}

// TestVectorsFromAltchaLib checks the format against the reference: the
// challenges and payloads in testdata/vectors.json were made and solved by
// npm altcha-lib (see testdata/vectors.mjs).
func TestVectorsFromAltchaLib(t *testing.T) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Scope   string `json:"scope"`
		HMACKey string `json:"hmac_key"`
		Vectors []struct {
			Challenge Challenge `json:"challenge"`
			Number    int64     `json:"number"`
			Payload   string    `json:"payload"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	a, now := newTest(t)
	if got := a.HMACKey(v.Scope); got != v.HMACKey {
		t.Fatalf("HMACKey(%q) = %s, the vectors were made with %s", v.Scope, got, v.HMACKey)
	}
	if len(v.Vectors) < 3 {
		t.Fatalf("%d vectors, want 3", len(v.Vectors))
	}
	for _, vec := range v.Vectors {
		c := vec.Challenge
		if got := hashHex(c.Salt, vec.Number); got != c.Challenge {
			t.Errorf("hashHex(%q, %d) = %s, altcha-lib says %s", c.Salt, vec.Number, got, c.Challenge)
		}
		if got := signWith(v.HMACKey, c.Challenge); got != c.Signature {
			t.Errorf("signature of %s = %s, altcha-lib says %s", c.Challenge, got, c.Signature)
		}
		p, err := ParsePayload(vec.Payload)
		if err != nil {
			t.Fatalf("ParsePayload(altcha-lib's payload): %v", err)
		}
		want := gen.ErrorCode("")
		if time.Unix(p.Expires, 0).Before(*now) {
			want = gen.ErrorCodeCaptchaExpired // the third vector expired in 2001
		}
		if got := code(a.Verify(context.Background(), req(vec.Payload))); got != want {
			t.Errorf("Verify(altcha-lib's payload, expires %d) = %q, want %q", p.Expires, got, want)
		}
	}
}

// TestVerify is every outcome of Verify on solutions of issued challenges.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	a, now := newTest(t)
	issue := func() (Challenge, int64) {
		c, err := a.Issue("demo-app", MinMaxNumber)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, ok := Solve(c)
		if !ok {
			t.Fatal("no solution")
		}
		p, _ := ParsePayload(tok)
		return c, p.Number
	}
	tamper := func(c Challenge, n int64, f func(m map[string]any)) string {
		m := map[string]any{}
		raw, _ := base64.StdEncoding.DecodeString(EncodePayload(c, n))
		_ = json.Unmarshal(raw, &m)
		f(m)
		b, _ := json.Marshal(m)
		return base64.StdEncoding.EncodeToString(b)
	}
	for _, tc := range []struct {
		name  string
		token func() string
		r     func(captcha.Request) captcha.Request
		wait  time.Duration
		want  gen.ErrorCode
	}{
		{name: "solved", token: func() string { c, n := issue(); return EncodePayload(c, n) }},
		{name: "wrong number", want: gen.ErrorCodeCaptchaWrong,
			token: func() string { c, n := issue(); return EncodePayload(c, (n+1)%(c.MaxNumber+1)) }},
		{name: "forged signature", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string {
				c, n := issue()
				c.Signature = strings.Repeat("0", 64)
				return EncodePayload(c, n)
			}},
		{name: "self-made challenge signed with a guessed key", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string {
				salt := "00?expires=9999999999&"
				c := Challenge{Algorithm: Algorithm, Challenge: hashHex(salt, 1), Salt: salt, MaxNumber: 1}
				c.Signature = signWith("guess", c.Challenge)
				return EncodePayload(c, 1)
			}},
		{name: "later expiry spliced into the salt", want: gen.ErrorCodeCaptchaWrong,
			token: func() string {
				c, n := issue()
				return tamper(c, n, func(m map[string]any) { m["salt"] = strings.Split(c.Salt, "?")[0] + "?expires=9999999999&" })
			}},
		{name: "another application's challenge", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string { c, n := issue(); return EncodePayload(c, n) },
			r:     func(r captcha.Request) captcha.Request { r.TenantID = "other"; return r }},
		{name: "expired", want: gen.ErrorCodeCaptchaExpired, wait: DefaultTTL,
			token: func() string { c, n := issue(); return EncodePayload(c, n) }},
		{name: "SHA-1", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string {
				c, n := issue()
				return tamper(c, n, func(m map[string]any) { m["algorithm"] = "SHA-1" })
			}},
		{name: "number as float", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string {
				c, n := issue()
				return tamper(c, n, func(m map[string]any) { m["number"] = float64(n) + 0.5 })
			}},
		{name: "number as string", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string { c, n := issue(); return tamper(c, n, func(m map[string]any) { m["number"] = "1" }) }},
		{name: "not base64", want: gen.ErrorCodeCaptchaInvalid, token: func() string { return "not base64!" }},
		{name: "base64 of junk", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string { return base64.StdEncoding.EncodeToString([]byte("[1,2]")) }},
		{name: "too long", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string { return strings.Repeat("A", MaxPayload+4) }},
		{name: "empty", want: gen.ErrorCodeCaptchaInvalid, token: func() string { return "" }},
		{name: "slider token", want: gen.ErrorCodeCaptchaInvalid,
			token: func() string { return `0123456789abcdef0123456789abcdef---{"x":1,"y":2}` }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token()
			*now = now.Add(tc.wait)
			r := req(tok)
			if tc.r != nil {
				r = tc.r(r)
			}
			if got := code(a.Verify(ctx, r)); got != tc.want {
				t.Fatalf("Verify = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVerifySingleUse: a solution passes once; its replay is refused with
// CAPTCHA.0004, also after the first pass's challenge has been re-solved.
func TestVerifySingleUse(t *testing.T) {
	ctx := context.Background()
	a, _ := newTest(t)
	c, err := a.Issue("demo-app", MinMaxNumber)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := Solve(c)
	if err := a.Verify(ctx, req(tok)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	for i := range 3 {
		if got := code(a.Verify(ctx, req(tok))); got != gen.ErrorCodeCaptchaInvalid {
			t.Fatalf("replay %d = %q, want CAPTCHA.0004", i, got)
		}
	}
	// The same challenge with another "took" (a re-encoded payload) is the
	// same challenge: still spent.
	p, _ := ParsePayload(tok)
	if got := code(a.Verify(ctx, req(EncodePayload(c, p.Number)+""))); got != gen.ErrorCodeCaptchaInvalid {
		t.Fatalf("re-encoded replay = %q, want CAPTCHA.0004", got)
	}
}

// TestVerifyOneTry: a wrong number spends the challenge; the right one
// after it is refused, so a client cannot search through the server.
func TestVerifyOneTry(t *testing.T) {
	ctx := context.Background()
	a, _ := newTest(t)
	c, _ := a.Issue("demo-app", MinMaxNumber)
	tok, _, _ := Solve(c)
	p, _ := ParsePayload(tok)
	if got := code(a.Verify(ctx, req(EncodePayload(c, (p.Number+1)%(c.MaxNumber+1))))); got != gen.ErrorCodeCaptchaWrong {
		t.Fatalf("wrong number = %q, want CAPTCHA.0002", got)
	}
	if got := code(a.Verify(ctx, req(tok))); got != gen.ErrorCodeCaptchaInvalid {
		t.Fatalf("right number after a wrong one = %q, want CAPTCHA.0004", got)
	}
}

// failingStore is a store that cannot answer.
type failingStore struct{}

func (failingStore) UseOnce(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("down")
}

func TestVerifyFailsClosed(t *testing.T) {
	a, err := New(Config{Key: testKey}, failingStore{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := a.Issue("demo-app", MinMaxNumber)
	tok, _, _ := Solve(c)
	if got := code(a.Verify(context.Background(), req(tok))); got != gen.ErrorCodeStoreUnavailable {
		t.Fatalf("Verify with the store down = %q, want SYS.0002", got)
	}
}

func TestIssue(t *testing.T) {
	a, now := newTest(t)
	for _, tc := range []struct {
		max, want int64
		ok        bool
	}{
		{0, DefaultMaxNumber, true}, {MinMaxNumber, MinMaxNumber, true}, {MaxMaxNumber, MaxMaxNumber, true},
		{MinMaxNumber - 1, 0, false}, {MaxMaxNumber + 1, 0, false}, {-5, 0, false},
	} {
		c, err := a.Issue("demo-app", tc.max)
		if (err == nil) != tc.ok {
			t.Fatalf("Issue(%d) err = %v, want ok=%v", tc.max, err, tc.ok)
		}
		if !tc.ok {
			continue
		}
		if c.MaxNumber != tc.want || c.Algorithm != "SHA-256" {
			t.Fatalf("Issue(%d) = %+v", tc.max, c)
		}
		exp, err := parseSalt(c.Salt)
		if err != nil || exp != now.Add(DefaultTTL).Unix() {
			t.Fatalf("salt %q: expires %d (%v), want %d", c.Salt, exp, err, now.Add(DefaultTTL).Unix())
		}
		if c.Signature != signWith(a.HMACKey("demo-app"), c.Challenge) {
			t.Fatal("signature is not HMAC(HMACKey(scope), challenge)")
		}
	}
	if _, err := New(Config{Key: []byte("short")}, failingStore{}); err == nil {
		t.Fatal("New accepted a 5-byte key")
	}
	if _, err := New(Config{Key: testKey}, nil); err == nil {
		t.Fatal("New accepted a nil store")
	}
}

// TestNumberUniform: over many challenges the secret number spreads over
// [0, maxnumber] (mean near the middle), so a solver cannot start from a
// favoured end.
func TestNumberUniform(t *testing.T) {
	a, _ := newTest(t)
	const n = 200
	var sum int64
	for range n {
		c, _ := a.Issue("demo-app", MinMaxNumber)
		_, hashes, ok := Solve(c)
		if !ok {
			t.Fatal("unsolvable challenge")
		}
		sum += hashes
	}
	mean := float64(sum) / n
	t.Logf("mean hashes over %d challenges at maxnumber %d: %.0f (expected %d)", n, MinMaxNumber, mean, MinMaxNumber/2)
	if mean < 0.35*MinMaxNumber || mean > 0.65*MinMaxNumber {
		t.Fatalf("mean %.0f is far from %d", mean, MinMaxNumber/2)
	}
}
