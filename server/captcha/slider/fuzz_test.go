package slider

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/captcha"
)

// fuzzFixture is a Slider on a fresh memKeeper whose puzzles have their
// hole at lo + hole (modulo the range), so that an input behaves the same
// on every run: newQuickFixture's random hole would make a failure found
// by the fuzzer flaky to replay.
func fuzzFixture(t *testing.T, hole uint8) *fixture {
	t.Helper()
	f := newFixture(t)
	f.s.draw = func(w, h, p int) (rendered, error) {
		lo, hi := xRange(w, p)
		return rendered{x: lo + int(hole)%(hi-lo+1), y: 4}, nil
	}
	return f
}

// FuzzCheckPoint answers a live puzzle (or, when issued is false, the
// token given) with an arbitrary point_json and sender, after an
// arbitrary wait, and checks Check against an oracle written from its
// documentation: the exact error code of every refusal, the exact
// captcha_token of a pass, and that the puzzle is spent whatever the
// outcome. It also checks parsePoint's contract on what it accepts: at
// most maxPointJSON bytes of printable ASCII, one JSON object, a finite x.
func FuzzCheckPoint(f *testing.F) {
	tok := "0123456789abcdef0123456789abcdef"
	for _, s := range []struct {
		issued   bool
		token    string
		point    string
		sender   string
		hole     uint8
		waitSecs uint16
		offsetPx int8
	}{
		{true, "", `{"x":%X,"y":5.0}`, testMobile, 0, 0, 0},
		{true, "", `{"x":%X,"y":5.0}`, testMobile, 200, 119, 5},
		{true, "", `{"x":%X,"y":5.0}`, testMobile, 17, 0, 6},
		{true, "", `{"x":%X}`, testMobile, 3, 121, 0},
		{true, "", `{"x":%X,"y":5.0}`, testMobile, 3, 200, 0},
		{true, "", `{"y":5.0}`, testMobile, 0, 0, 0},
		{true, "", `{"x":"1"}`, testMobile, 0, 0, 0},
		{true, "", `{"x":1e309}`, testMobile, 0, 0, 0},
		{true, "", `{"x":%X,"z":1}`, testMobile, 0, 0, 0},
		{true, "", `{"x":%X} {}`, testMobile, 0, 0, 0},
		{true, "", `null`, testMobile, 0, 0, 0},
		{true, "", `{"X":%X}`, testMobile, 0, 0, 0},
		{true, "", "{\"x\":%X,\"y\":\"\u00e9\"}", testMobile, 0, 0, 0},
		{true, "", `{"x":%X}`, "", 0, 0, 0},
		{true, "", "", testMobile, 0, 0, 0},
		{false, tok, `{"x":100}`, testMobile, 0, 0, 0},
		{false, "", `{"x":100}`, testMobile, 0, 0, 0},
		{false, "71d******635", `{"x":237.0,"y":5.0}`, testMobile, 0, 0, 0},
		{false, strings.ToUpper(tok), `{"x":100}`, testMobile, 0, 0, 0},
	} {
		f.Add(s.issued, s.token, s.point, s.sender, s.hole, s.waitSecs, s.offsetPx)
	}
	f.Fuzz(func(t *testing.T, issued bool, token, point, sender string, hole uint8, waitSecs uint16, offsetPx int8) {
		fx := fuzzFixture(t, hole)
		ctx := context.Background()
		p, rec := fx.issue(t)
		if issued {
			token = p.Token
		}
		// %X in a seed's point stands for the hole's x plus offsetPx, so
		// that passing answers are in the corpus.
		point = strings.ReplaceAll(point, "%X", strconv.Itoa(rec.X+int(offsetPx)))
		wait := time.Duration(waitSecs) * time.Second
		fx.clock.Advance(wait)

		got, err := fx.s.Check(ctx, testScope, token, point, sender)

		x, perr := parsePoint(point)
		if perr == nil {
			if len(point) > maxPointJSON || !printableASCII(point) || !json.Valid([]byte(point)) ||
				math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("parsePoint(%q) accepted it as x=%v", point, x)
			}
		}
		live := token == p.Token
		stored := puzzleTTL(fx) + expiredGrace
		var want gen.ErrorCode
		switch {
		case token == "":
			want = gen.ErrorCodeCaptchaTokenRequired
		case point == "":
			want = gen.ErrorCodeCoordinatesRequired
		case sender == "":
			want = gen.ErrorCodeMobileRequired
		case !live || wait >= stored: // not ours, or gone from the store
			want = gen.ErrorCodeCaptchaInvalid
		case wait > puzzleTTL(fx):
			want = gen.ErrorCodeCaptchaExpired
		case perr != nil || math.Abs(x-float64(rec.X)) > fx.s.cfg.Tolerance:
			want = gen.ErrorCodeCaptchaWrong
		}
		if code := codeOf(t, err); code != want {
			t.Fatalf("Check(%q, %q, %q) after %v: code %q, want %q (hole x=%d)", token, point, sender, wait, code, want, rec.X)
		}
		if want == "" && got != p.Token+tokenSeparator+point {
			t.Fatalf("Check returned %q, want %q", got, p.Token+tokenSeparator+point)
		}
		// Every answer to a live puzzle spends it, right or wrong.
		if live && token != "" && point != "" && sender != "" {
			if code := codeOf(t, second(fx.s.Check(ctx, testScope, token, point, sender))); code != gen.ErrorCodeCaptchaInvalid {
				t.Fatalf("a second Check of a spent puzzle: %q, want CAPTCHA.0004", code)
			}
		}
	})
}

// FuzzVerifyToken spends an arbitrary captcha_token for an arbitrary
// number against a Slider holding one verified token, good for
// testMobile. Verify must pass only for exactly that token and number,
// answer CAPTCHA.0002 for that token and another number, and CAPTCHA.0004
// (unknown, malformed, or a point other than the verified one) for
// anything else; when prefixed is true the input is appended to the
// verified puzzle token, so that the split at "---" and the point
// comparison are what is fuzzed.
func FuzzVerifyToken(f *testing.F) {
	for _, s := range []struct {
		prefixed bool
		token    string
		mobile   string
	}{
		{true, "---%P", testMobile},
		{true, "---%P", "+8613800000000"},
		{true, "---%P ", testMobile},
		{true, "---", testMobile},
		{true, "", testMobile},
		{true, "------%P", testMobile},
		{true, "--%P", testMobile},
		{true, "---{\"x\":1}", testMobile},
		{false, `71d******635---{"x":237.0,"y":5.0}`, testMobile},
		{false, "---", testMobile},
		{false, "", ""},
		{false, "0123456789ABCDEF0123456789ABCDEF---{}", testMobile},
		{false, "\xff\xfe---\x00", testMobile},
	} {
		f.Add(s.prefixed, s.token, s.mobile, uint8(0))
	}
	f.Fuzz(func(t *testing.T, prefixed bool, token, mobile string, hole uint8) {
		fx := fuzzFixture(t, hole)
		ctx := context.Background()
		p, rec := fx.issue(t)
		pt := point(float64(rec.X))
		good, err := fx.s.Check(ctx, testScope, p.Token, pt, testMobile)
		if err != nil {
			t.Fatalf("Check of the right answer: %v", err)
		}
		// %P stands for the verified point, so that the exact token is in
		// the corpus.
		token = strings.ReplaceAll(token, "%P", pt)
		if prefixed {
			token = p.Token + token
		}

		err = fx.s.Verify(ctx, captcha.Request{Token: token, Mobile: mobile, ClientID: testScope})

		var want gen.ErrorCode
		switch {
		case token != good:
			want = gen.ErrorCodeCaptchaInvalid
		case mobile != testMobile:
			want = gen.ErrorCodeCaptchaWrong
		}
		if code := codeOf(t, err); code != want {
			t.Fatalf("Verify(%q, %q): code %q, want %q (verified token %q)", token, mobile, code, want, good)
		}
	})
}

// puzzleTTL is the fixture's puzzle lifetime.
func puzzleTTL(f *fixture) time.Duration { return f.s.cfg.PuzzleTTL }

// second returns its second argument: the error of a two-valued call.
func second[T any](_ T, err error) error { return err }

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
