package sender_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/sender"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/store"
)

// Each verification limit lets its Max failures through, then refuses with
// its code and Retry-After, comparing nothing: even the right code is
// refused while the limit is full, and works once the window has ended.
func TestVerifyLimits(t *testing.T) {
	tests := []struct {
		name string
		edit func(*sender.Limits)
		// request i (from 0): its number and device, and whether its code
		// is wrong (else a number with no code pending)
		mobile, device func(i int) string
		wrong          bool
		max            int
		code           string
		window         time.Duration
	}{
		{
			name: "per IP", edit: func(l *sender.Limits) { l.VerifyIPPerHour = 3 },
			mobile: func(i int) string { return fmt.Sprintf("139000000%02d", i) },
			device: func(i int) string { return fmt.Sprintf("dev%d", i) },
			max:    3, code: "VERIFY.0005", window: time.Hour,
		},
		{
			name: "per device", edit: func(l *sender.Limits) { l.VerifyDevicePerHour = 3 },
			mobile: func(i int) string { return fmt.Sprintf("139000000%02d", i) },
			device: func(int) string { return "same-device" },
			max:    3, code: "VERIFY.0006", window: time.Hour,
		},
		{
			// Wrong codes for one number from one device on one address:
			// once it has tried the code's max_attempts (5), it gets a
			// daily refusal for the number, not just a dead code.
			name: "per number and caller", edit: func(*sender.Limits) {},
			mobile: func(int) string { return seedMobile },
			device: func(int) string { return "one-device" },
			wrong:  true, max: 5, code: "VERIFY.0008", window: 24 * time.Hour,
		},
		{
			// The same from one address over many devices: the address
			// is spent for the number.
			name: "per number and client IP", edit: func(*sender.Limits) {},
			mobile: func(int) string { return seedMobile },
			device: func(i int) string { return fmt.Sprintf("dev%d", i) },
			wrong:  true, max: 5, code: "VERIFY.0008", window: 24 * time.Hour,
		},
		{
			// Wrong codes for one number from four devices: only the
			// number's limit can refuse (each device makes one guess,
			// under the per-caller cap of 5 and the IP's 50).
			name: "per number", edit: func(l *sender.Limits) { l.VerifyNumberDaily = 3 },
			mobile: func(int) string { return seedMobile },
			device: func(i int) string { return fmt.Sprintf("dev%d", i) },
			wrong:  true, max: 3, code: "VERIFY.0007", window: 24 * time.Hour,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := servertest.New(t, servertest.WithConfig(func(c *config.Config) { tt.edit(&c.Limits) }))
			// The right code of a pending code, to show a refusal compares nothing.
			wantOK(t, send(t, env, tt.mobile(tt.max), bind, map[string]string{"X-device-fingerprint": "sender"}))
			msg, ok := env.Outbox.Last("+86" + tt.mobile(tt.max))
			if !ok {
				t.Fatal("no SMS")
			}
			for i := 0; i < tt.max; i++ {
				code, want := msg.Code, "VERIFY.0002"
				if tt.wrong {
					code, want = wrongCode(msg.Code), "VERIFY.0001"
				}
				scenario := login // no code pending for it
				if tt.wrong {
					scenario = bind
				}
				wantError(t, verify(t, env, tt.mobile(i), scenario, code, map[string]string{"X-device-fingerprint": tt.device(i)}),
					http.StatusBadRequest, want)
			}
			r := verify(t, env, tt.mobile(tt.max), bind, msg.Code, map[string]string{"X-device-fingerprint": tt.device(tt.max)})
			wantError(t, r, http.StatusTooManyRequests, tt.code)
			if r.RetryAfter != int(tt.window/time.Second) {
				t.Errorf("Retry-After = %d, want %d", r.RetryAfter, int(tt.window/time.Second))
			}
			env.Clock.Advance(tt.window + time.Second)
			// The code expired meanwhile; the limit has room again.
			wantError(t, verify(t, env, tt.mobile(tt.max), bind, msg.Code, map[string]string{"X-device-fingerprint": tt.device(tt.max)}),
				http.StatusBadRequest, "VERIFY.0002")
		})
	}
}

// The default limits' bound, as the spec and README state it.
func TestVerifyBound(t *testing.T) {
	perDay, perYear := sender.VerifyBound(sender.DefaultLimits, 6)
	t.Logf("default verify limits: at most %d guesses per number per day; chance per year of guessing a 6-digit code: %.3f %%", perDay, 100*perYear)
	if perDay != 20 || perYear < 0.0072 || perYear > 0.0074 {
		t.Fatalf("bound %d per day, %.5f per year; the spec says 20 and 0.73 %%", perDay, perYear)
	}
}

// recorder is a store that records every key and value it is given, and
// the keys alone in keys.
type recorder struct {
	store.Store
	mu   sync.Mutex
	seen []string
	keys []string
}

func (r *recorder) note(s ...string) {
	r.mu.Lock()
	r.seen = append(r.seen, s...)
	r.mu.Unlock()
}

func (r *recorder) key(k string) {
	r.mu.Lock()
	r.keys = append(r.keys, k)
	r.mu.Unlock()
}

func (r *recorder) Reserve(ctx context.Context, req store.SendRequest) (store.SendResult, error) {
	for _, l := range req.Limits {
		r.note(l.Key)
		r.key(l.Key)
	}
	r.note(req.Code.Key, string(req.Code.Hash))
	if req.Code.Key != "" { // a reservation of limits alone has no code
		r.key(req.Code.Key)
	}
	return r.Store.Reserve(ctx, req)
}

func (r *recorder) Verify(ctx context.Context, req store.VerifyRequest) (store.VerifyResult, error) {
	for _, l := range req.Limits {
		r.note(l.Key)
		r.key(l.Key)
	}
	r.note(req.Key, string(req.Hash))
	r.key(req.Key)
	r.note(req.Sources...)
	return r.Store.Verify(ctx, req)
}

func (r *recorder) UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	r.note(key)
	r.key(key)
	return r.Store.UseOnce(ctx, key, ttl)
}

func (r *recorder) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	r.note(key, string(value))
	r.key(key)
	return r.Store.Put(ctx, key, value, ttl)
}

func (r *recorder) Take(ctx context.Context, key string) ([]byte, bool, error) {
	r.note(key)
	r.key(key)
	return r.Store.Take(ctx, key)
}

// recordFlow runs one application's whole flow (a slider puzzle and its
// check, a send, a wrong and a right verification) on a server whose store
// records every key and value it is given, and returns the recording.
func recordFlow(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	env := servertest.New(t, func(s *servertest.Setup) {
		s.WrapStore = func(st store.Store) store.Store { rec.Store = st; return rec }
		learning(&s.Config) // the learning pumping defence's keys too (conversion_test.go)
	})
	token, x := puzzle(t, env)
	ct := captchaToken(t, solve(t, env, token, x, seedMobile))
	wantOK(t, sendWith(t, env, seedMobile, ct))
	msg, _ := env.Outbox.Last(seedE164)
	wantError(t, verify(t, env, seedMobile, login, wrongCode(msg.Code), nil), http.StatusBadRequest, "VERIFY.0001")
	wantOK(t, verify(t, env, seedMobile, login, msg.Code, nil))
	return rec
}

// No key or value that reaches the store holds the number, in any
// spelling, nor its pumping prefix: through the slider, a send, a wrong
// and a right verification.
func TestStoreSeesNoNumber(t *testing.T) {
	rec := recordFlow(t)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) < 20 {
		t.Fatalf("only %d keys and values recorded", len(rec.seen))
	}
	// Nor the device fingerprint, or its unkeyed digest (anyone who knows
	// a device's fingerprint could find its keys by it).
	fp := seedHeaders()["X-device-fingerprint"]
	sum := sha256.Sum256([]byte(fp))
	fpDigest := hex.EncodeToString(sum[:12])
	for _, s := range rec.seen {
		for _, leak := range []string{seedMobile, seedMobile[3:], "+86123", fp, fpDigest} {
			if strings.Contains(s, leak) {
				t.Errorf("the store was given %q, which contains %q", s, leak)
			}
		}
	}
	t.Logf("%d keys and values reached the store; none holds the number, its prefix or the device fingerprint", len(rec.seen))
}

// Every key that one application's requests give the store (the slider's,
// the captcha token's, the send's and the verification's limits and code)
// has a Redis Cluster hash tag (the text between its first "{" and the next
// "}") within the application's: its scope alone (the app-wide keys: the
// daily count, the captcha's, the conversion's), or its scope with one
// entity, ":n:" a number, ":d:" a device, ":i:" a client address, ":p:" a
// prefix. So two applications never share a key, the number's keys (its
// code, cooldown and counts) are in one slot, and the others spread over
// the cluster's slots rather than all landing on the application's node.
func TestStoreKeysTaggedByEntity(t *testing.T) {
	rec := recordFlow(t)
	scope := apps.Scope(servertest.ClientID, servertest.TenantID)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.keys) < 10 {
		t.Fatalf("only %d keys recorded", len(rec.keys))
	}
	tagsByKind := map[string]map[string]bool{}
	var codeTag string
	for _, k := range rec.keys {
		open := strings.IndexByte(k, '{')
		end := strings.IndexByte(k[open+1:], '}')
		if open != 0 || end < 0 {
			t.Errorf("key %q does not start with a hash tag", k)
			continue
		}
		tag := k[1 : 1+end]
		kind := "app"
		if tag != scope {
			rest, ok := strings.CutPrefix(tag, scope+":")
			if !ok || len(rest) < 3 || rest[1] != ':' || !strings.Contains("ndip", rest[:1]) {
				t.Errorf("key %q: hash tag %q is neither the scope %q nor the scope with an entity", k, tag, scope)
				continue
			}
			kind = rest[:1]
		}
		if tagsByKind[kind] == nil {
			tagsByKind[kind] = map[string]bool{}
		}
		tagsByKind[kind][tag] = true
		if strings.Contains(k, "}:code:") {
			codeTag = tag
		}
	}
	// One application and one number in the flow: one tag each, the
	// code's being the number's; each other kind is there too.
	for _, kind := range []string{"app", "n", "d", "i", "p"} {
		if n := len(tagsByKind[kind]); n == 0 || n > 1 && (kind == "app" || kind == "n") {
			t.Errorf("%d hash tags of kind %q (%v), want 1", n, kind, tagsByKind[kind])
		}
	}
	if !tagsByKind["n"][codeTag] {
		t.Errorf("the code's tag %q is not the number's %v", codeTag, tagsByKind["n"])
	}
	if !t.Failed() {
		t.Logf("%d keys reached the store, under %d hash tags within %s", len(rec.keys), len(tagsByKind), scope)
	}
}
