package sender_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
)

// get sends a GET with the seed's headers.
func get(t *testing.T, env *servertest.Env, path string, hdr map[string]string) reply {
	t.Helper()
	return do(t, env, call{path: path, hdr: hdr, get: true})
}

// puzzle gets a puzzle and returns its token and the x of its hole, read
// from the store as a person reads it from the picture.
func puzzle(t *testing.T, env *servertest.Env) (string, int) {
	t.Helper()
	r := get(t, env, "/api/v2/sdk/captcha", nil)
	wantOK(t, r)
	var p gen.CaptchaPuzzle
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	x, err := slider.PeekAnswer(context.Background(), env.Runtime.Store,
		apps.Scope(servertest.ClientID, servertest.TenantID), p.Token)
	if err != nil {
		t.Fatal(err)
	}
	return p.Token, x
}

// solve answers a puzzle at x for sender.
func solve(t *testing.T, env *servertest.Env, token string, x int, sender string) reply {
	t.Helper()
	return do(t, env, call{path: "/api/v2/sdk/captcha/verify", body: map[string]string{
		"point_json": fmt.Sprintf(`{"x":%d.0,"y":5.0}`, x), "token": token, "sender": sender}})
}

func captchaToken(t *testing.T, r reply) string {
	t.Helper()
	wantOK(t, r)
	var v gen.CaptchaVerifyResult
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.CaptchaToken
}

func sendWith(t *testing.T, env *servertest.Env, mobile, token string) reply {
	t.Helper()
	return do(t, env, call{path: "/api/v2/sdk/sms/send", hdr: map[string]string{"X-device-fingerprint": "slider-" + mobile},
		body: map[string]string{"mobile": mobile, "type": login, "captcha_token": token}})
}

// The puzzle is two PNGs, a token and y; the answer is in no field.
func TestCaptchaPuzzle(t *testing.T) {
	env := servertest.New(t)
	r := get(t, env, "/api/v2/sdk/captcha", nil)
	wantOK(t, r)
	var p gen.CaptchaPuzzle
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(p.Token) || p.Width != 310 || p.Height != 155 {
		t.Errorf("puzzle %+v", p)
	}
	for name, b64 := range map[string]string{"background": p.OriginalImageBase64, "piece": p.JigsawImageBase64} {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "piece" && img.Bounds().Dx() >= int(p.Width) {
			t.Errorf("the piece is as wide as the background: its x could be read from it")
		}
	}
	var fields map[string]any
	_ = json.Unmarshal(r.Body, &fields)
	if _, ok := fields["x"]; ok || len(fields) != 6 {
		t.Errorf("fields %v", keys(fields))
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The whole OneAccess flow: puzzle, slide, captcha_token, send, verify.
func TestSliderFlow(t *testing.T) {
	env := servertest.New(t)
	token, x := puzzle(t, env)
	ct := captchaToken(t, solve(t, env, token, x+3, seedMobile)) // within 5 px
	if !strings.HasPrefix(ct, token+"---{") {
		t.Fatalf("captcha_token %q: want <token>---<point_json>", ct)
	}
	wantOK(t, sendWith(t, env, seedMobile, ct))
	msg, _ := env.Outbox.Last(seedE164)
	wantOK(t, verify(t, env, seedMobile, login, msg.Code, nil))
	// The captcha_token was used up by the send.
	env.Clock.Advance(61 * time.Second)
	wantError(t, sendWith(t, env, seedMobile, ct), http.StatusBadRequest, "CAPTCHA.0004")
}

func TestSliderRefusals(t *testing.T) {
	env := servertest.New(t)

	t.Run("wrong position, and one try per puzzle", func(t *testing.T) {
		token, x := puzzle(t, env)
		wantError(t, solve(t, env, token, x+6, seedMobile), http.StatusBadRequest, "CAPTCHA.0002")
		wantError(t, solve(t, env, token, x, seedMobile), http.StatusBadRequest, "CAPTCHA.0004")
	})
	t.Run("unknown puzzle", func(t *testing.T) {
		wantError(t, solve(t, env, strings.Repeat("ab", 16), 100, seedMobile), http.StatusBadRequest, "CAPTCHA.0004")
	})
	t.Run("late answer", func(t *testing.T) {
		token, x := puzzle(t, env)
		env.Clock.Advance(2*time.Minute + time.Second)
		wantError(t, solve(t, env, token, x, seedMobile), http.StatusBadRequest, "CAPTCHA.0003")
	})
	t.Run("token for another number", func(t *testing.T) {
		token, x := puzzle(t, env)
		ct := captchaToken(t, solve(t, env, token, x, "13800000001"))
		wantError(t, sendWith(t, env, "13800000002", ct), http.StatusBadRequest, "CAPTCHA.0002")
		// Spent by that attempt: single use whatever the outcome.
		wantError(t, sendWith(t, env, "13800000001", ct), http.StatusBadRequest, "CAPTCHA.0004")
	})
	t.Run("token past its 3 minutes", func(t *testing.T) {
		token, x := puzzle(t, env)
		ct := captchaToken(t, solve(t, env, token, x, "13800000003"))
		env.Clock.Advance(3*time.Minute + time.Second)
		wantError(t, sendWith(t, env, "13800000003", ct), http.StatusBadRequest, "CAPTCHA.0003")
	})
	t.Run("point changed in the token", func(t *testing.T) {
		token, x := puzzle(t, env)
		ct := captchaToken(t, solve(t, env, token, x, "13800000004"))
		forged := token + fmt.Sprintf(`---{"x":%d.0,"y":5.0}`, x+1)
		if forged == ct {
			t.Fatal("test error")
		}
		wantError(t, sendWith(t, env, "13800000004", forged), http.StatusBadRequest, "CAPTCHA.0004")
	})
	t.Run("sender must be a valid number", func(t *testing.T) {
		token, x := puzzle(t, env)
		wantError(t, solve(t, env, token, x, "+999999999"), http.StatusBadRequest, "USER.0038")
	})
}

// Puzzles cost CPU to draw: one client IP gets 30 a minute.
func TestPuzzleRateLimit(t *testing.T) {
	env := servertest.New(t)
	for i := 0; i < 30; i++ {
		wantOK(t, get(t, env, "/api/v2/sdk/captcha", nil))
	}
	r := get(t, env, "/api/v2/sdk/captcha", nil)
	if r.Status != http.StatusTooManyRequests || r.Code != "CAPTCHA.0007" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("31st puzzle: %d %s Retry-After %q", r.Status, r.Code, r.Header.Get("Retry-After"))
	}
	env.Clock.Advance(time.Minute)
	wantOK(t, get(t, env, "/api/v2/sdk/captcha", nil))
}

// The puzzle limit counts an IPv6 client as its /64, as the send and
// verify limits do: walking the addresses of one /64 buys no puzzles.
func TestPuzzleRateLimitCountsIPv6As64(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) { c.HTTP.TrustedProxies = []string{"127.0.0.1"} }))
	for i := 0; i < 30; i++ {
		wantOK(t, get(t, env, "/api/v2/sdk/captcha", map[string]string{"X-Forwarded-For": fmt.Sprintf("2001:db8:7:7::%x", i+1)}))
	}
	r := get(t, env, "/api/v2/sdk/captcha", map[string]string{"X-Forwarded-For": "2001:db8:7:7:ffff::1"})
	if r.Status != http.StatusTooManyRequests || r.Code != "CAPTCHA.0007" {
		t.Fatalf("31st puzzle from the /64: %d %s", r.Status, r.Code)
	}
	wantOK(t, get(t, env, "/api/v2/sdk/captcha", map[string]string{"X-Forwarded-For": "2001:db8:7:8::1"}))
}

func TestCountryCodes(t *testing.T) {
	env := servertest.New(t)
	r := get(t, env, "/api/v2/sdk/country-codes", nil)
	wantOK(t, r)
	var cc gen.CountryCodes
	if err := json.Unmarshal(r.Body, &cc); err != nil {
		t.Fatal(err)
	}
	if cc.Preferred != "+86" || len(cc.CountryCodes) < 200 {
		t.Fatalf("preferred %q, %d codes", cc.Preferred, len(cc.CountryCodes))
	}
	wantError(t, get(t, env, "/api/v2/sdk/country-codes", map[string]string{"X-client-id": "nosuchapp"}),
		http.StatusBadRequest, "APP.0001")
}
