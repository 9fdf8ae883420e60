package slider

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha"
)

const (
	testScope  = "DRrYIqauawN0I8my"
	testMobile = "+8613812345678"
)

// fixture is a Slider on a memKeeper and a test clock.
type fixture struct {
	s     *Slider
	keep  *memKeeper
	clock *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	c := newClock()
	k := newMemKeeper(c.Now)
	// The global budget is TestBudget's: the other tests and the
	// benchmarks draw as fast as they like.
	s, err := New(Config{Now: c.Now, PuzzlesPerSecond: 1e9, PuzzleBurst: 1 << 30}, k)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, keep: k, clock: c}
}

// newQuickFixture is newFixture drawing blank pictures with the hole at a
// random x: for the tests of the protocol, which never look at the
// pictures, and run many times faster so (under -race above all).
func newQuickFixture(t testing.TB) *fixture {
	t.Helper()
	f := newFixture(t)
	f.s.draw = func(w, h, p int) (rendered, error) {
		lo, hi := xRange(w, p)
		return rendered{background: "", piece: "", x: lo + mrand.IntN(hi-lo+1), y: 4}, nil
	}
	return f
}

// issue issues a puzzle and returns it with its answer, read from the
// store: the answer is never taken from the response.
func (f *fixture) issue(t testing.TB) (Puzzle, puzzleRecord) {
	t.Helper()
	p, err := f.s.Issue(context.Background(), testScope)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := f.keep.peek(PuzzleKey(testScope, p.Token))
	if !ok {
		t.Fatalf("no answer stored under %s", PuzzleKey(testScope, p.Token))
	}
	rec, err := decodePuzzle(e.value)
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

// point is the point_json a client sends for x.
func point(x float64) string { return fmt.Sprintf(`{"x":%.1f,"y":5.0}`, x) }

// codeOf is the API error code of err, or "" for nil.
func codeOf(t testing.TB, err error) gen.ErrorCode {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *apierr.Error", err)
	}
	return ae.Code
}

func TestNew(t *testing.T) {
	k := newMemKeeper(time.Now)
	tests := []struct {
		name string
		cfg  Config
		keep Keeper
		ok   bool
	}{
		{name: "defaults", keep: k, ok: true},
		{name: "custom size", cfg: Config{Width: 400, Height: 200, PieceSize: 60}, keep: k, ok: true},
		{name: "no keeper", keep: nil},
		{name: "negative puzzle ttl", cfg: Config{PuzzleTTL: -time.Second}, keep: k},
		{name: "negative token ttl", cfg: Config{TokenTTL: -time.Second}, keep: k},
		{name: "negative tolerance", cfg: Config{Tolerance: -1}, keep: k},
		{name: "piece too small", cfg: Config{PieceSize: 10}, keep: k},
		{name: "piece taller than picture", cfg: Config{Height: 50}, keep: k},
		{name: "too narrow to slide", cfg: Config{Width: 160}, keep: k},
		{name: "tolerance too wide", cfg: Config{Tolerance: 40}, keep: k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg, tt.keep)
			if (err == nil) != tt.ok {
				t.Fatalf("New() error = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && tt.name == "defaults" {
				c := s.cfg
				if c.PuzzleTTL != DefaultPuzzleTTL || c.TokenTTL != DefaultTokenTTL || c.Tolerance != DefaultTolerance ||
					c.Width != DefaultWidth || c.Height != DefaultHeight || c.PieceSize != DefaultPieceSize || c.Now == nil {
					t.Errorf("defaults not applied: %+v", c)
				}
			}
		})
	}
}

func TestIssue(t *testing.T) {
	f := newFixture(t)
	p, rec := f.issue(t)

	if !validToken(p.Token) {
		t.Errorf("token %q is not 32 lowercase hex digits", p.Token)
	}
	if p.Width != DefaultWidth || p.Height != DefaultHeight || p.Y != rec.Y {
		t.Errorf("puzzle %dx%d y=%d, want %dx%d y=%d", p.Width, p.Height, p.Y, DefaultWidth, DefaultHeight, rec.Y)
	}
	bg, piece := decodeB64PNG(t, p.Background), decodeB64PNG(t, p.Piece)
	if got := bg.Bounds().Size(); got.X != DefaultWidth || got.Y != DefaultHeight {
		t.Errorf("background is %v", got)
	}
	// The piece image is the piece alone, not a picture-wide strip whose
	// offset would give the answer away.
	if got := piece.Bounds(); got.Min.X != 0 || got.Min.Y != 0 || got.Dx() != DefaultPieceSize || got.Dy() != DefaultPieceSize {
		t.Errorf("piece bounds %v, want 0,0-%d,%d", got, DefaultPieceSize, DefaultPieceSize)
	}
	lo, hi := xRange(DefaultWidth, DefaultPieceSize)
	if rec.X < lo || rec.X > hi {
		t.Errorf("answer x %d outside [%d, %d]", rec.X, lo, hi)
	}
	e, _ := f.keep.peek(PuzzleKey(testScope, p.Token))
	if want := DefaultPuzzleTTL + expiredGrace; e.ttl != want {
		t.Errorf("puzzle stored for %v, want %v", e.ttl, want)
	}
	if !rec.issued().Equal(f.clock.Now()) {
		t.Errorf("issue time %v, want %v", rec.issued(), f.clock.Now())
	}
}

// The response has no field that could carry the answer: only these.
func TestPuzzleHasNoAnswerField(t *testing.T) {
	var names []string
	for f := range reflect.TypeFor[Puzzle]().Fields() {
		names = append(names, f.Name)
	}
	want := []string{"Token", "Background", "Piece", "Y", "Width", "Height"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("Puzzle fields %v, want %v", names, want)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		token  func(p Puzzle) string
		point  func(x int) string
		sender string
		late   time.Duration
		want   gen.ErrorCode
	}{
		{name: "exact", point: func(x int) string { return point(float64(x)) }},
		{name: "within tolerance right", point: func(x int) string { return point(float64(x) + DefaultTolerance) }},
		{name: "within tolerance left", point: func(x int) string { return point(float64(x) - DefaultTolerance) }},
		{name: "integers, no y", point: func(x int) string { return fmt.Sprintf(`{"x":%d}`, x) }},
		{name: "just in time", point: func(x int) string { return point(float64(x)) }, late: DefaultPuzzleTTL},
		{name: "off by tolerance+1 right", point: func(x int) string { return point(float64(x) + DefaultTolerance + 1) }, want: gen.ErrorCodeCaptchaWrong},
		{name: "off by tolerance+1 left", point: func(x int) string { return point(float64(x) - DefaultTolerance - 1) }, want: gen.ErrorCodeCaptchaWrong},
		{name: "late", point: func(x int) string { return point(float64(x)) }, late: DefaultPuzzleTTL + time.Second, want: gen.ErrorCodeCaptchaExpired},
		{name: "late within grace", point: func(x int) string { return point(float64(x)) }, late: DefaultPuzzleTTL + expiredGrace - time.Second, want: gen.ErrorCodeCaptchaExpired},
		{name: "gone from the store", point: func(x int) string { return point(float64(x)) }, late: DefaultPuzzleTTL + expiredGrace, want: gen.ErrorCodeCaptchaInvalid},
		{name: "malformed point", point: func(int) string { return `{"x":` }, want: gen.ErrorCodeCaptchaWrong},
		{name: "point with unknown field", point: func(x int) string { return fmt.Sprintf(`{"x":%d,"z":1}`, x) }, want: gen.ErrorCodeCaptchaWrong},
		{name: "point with trailing data", point: func(x int) string { return point(float64(x)) + `{}` }, want: gen.ErrorCodeCaptchaWrong},
		{name: "point without x", point: func(int) string { return `{"y":5.0}` }, want: gen.ErrorCodeCaptchaWrong},
		{name: "point null", point: func(int) string { return `null` }, want: gen.ErrorCodeCaptchaWrong},
		{name: "point as string", point: func(x int) string { return fmt.Sprintf(`{"x":"%d"}`, x) }, want: gen.ErrorCodeCaptchaWrong},
		{name: "point with newline", point: func(x int) string { return fmt.Sprintf("{\"x\":%d,\n\"y\":5}", x) }, want: gen.ErrorCodeCaptchaWrong},
		{name: "point too long", point: func(x int) string { return fmt.Sprintf(`{"x":%d%s}`, x, strings.Repeat(" ", maxPointJSON)) }, want: gen.ErrorCodeCaptchaWrong},
		{name: "empty token", token: func(Puzzle) string { return "" }, point: func(x int) string { return point(float64(x)) }, want: gen.ErrorCodeCaptchaTokenRequired},
		{name: "empty point", point: func(int) string { return "" }, want: gen.ErrorCodeCoordinatesRequired},
		{name: "empty sender", point: func(x int) string { return point(float64(x)) }, sender: "-", want: gen.ErrorCodeMobileRequired},
		{name: "unknown token", token: func(Puzzle) string { return strings.Repeat("ab", tokenBytes) }, point: func(x int) string { return point(float64(x)) }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "malformed token", token: func(p Puzzle) string { return "}:" + p.Token }, point: func(x int) string { return point(float64(x)) }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "upper-case token", token: func(p Puzzle) string { return strings.ToUpper(p.Token) }, point: func(x int) string { return point(float64(x)) }, want: gen.ErrorCodeCaptchaInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newQuickFixture(t)
			p, rec := f.issue(t)
			token := p.Token
			if tt.token != nil {
				token = tt.token(p)
			}
			sender := testMobile
			if tt.sender == "-" {
				sender = ""
			}
			f.clock.Advance(tt.late)
			pt := tt.point(rec.X)
			got, err := f.s.Check(context.Background(), testScope, token, pt, sender)
			if code := codeOf(t, err); code != tt.want {
				t.Fatalf("Check() = %q, %v; want code %q", got, err, tt.want)
			}
			if tt.want != "" {
				return
			}
			if want := p.Token + "---" + pt; got != want {
				t.Errorf("captcha_token %q, want %q", got, want)
			}
			e, ok := f.keep.peek(VerifiedKey(testScope, p.Token))
			if !ok {
				t.Fatal("no verified record stored")
			}
			if want := DefaultTokenTTL + expiredGrace; e.ttl != want {
				t.Errorf("verified record stored for %v, want %v", e.ttl, want)
			}
		})
	}
}

// A puzzle is good for one try, whatever the outcome of the first.
func TestCheckSpendsPuzzle(t *testing.T) {
	for _, first := range []struct {
		name string
		dx   float64
	}{{"after a pass", 0}, {"after a miss", DefaultTolerance + 1}, {"after a malformed point", -1}} {
		t.Run(first.name, func(t *testing.T) {
			f := newQuickFixture(t)
			p, rec := f.issue(t)
			pt := point(float64(rec.X) + first.dx)
			if first.dx < 0 {
				pt = "{"
			}
			_, _ = f.s.Check(context.Background(), testScope, p.Token, pt, testMobile)
			_, err := f.s.Check(context.Background(), testScope, p.Token, point(float64(rec.X)), testMobile)
			if code := codeOf(t, err); code != gen.ErrorCodeCaptchaInvalid {
				t.Errorf("second Check = %v, want CAPTCHA.0004", err)
			}
		})
	}
}

// A puzzle issued for one application cannot be answered for another.
func TestCheckScoped(t *testing.T) {
	f := newQuickFixture(t)
	p, rec := f.issue(t)
	_, err := f.s.Check(context.Background(), apps.Scope(testScope, "tenant1"), p.Token, point(float64(rec.X)), testMobile)
	if code := codeOf(t, err); code != gen.ErrorCodeCaptchaInvalid {
		t.Errorf("Check in another scope = %v, want CAPTCHA.0004", err)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name string
		// edit changes the request the pipeline presents.
		edit func(r *captcha.Request)
		late time.Duration
		want gen.ErrorCode
	}{
		{name: "right sender"},
		{name: "just in time", late: DefaultTokenTTL},
		{name: "wrong sender", edit: func(r *captcha.Request) { r.Mobile = "+8613800000000" }, want: gen.ErrorCodeCaptchaWrong},
		{name: "expired", late: DefaultTokenTTL + time.Second, want: gen.ErrorCodeCaptchaExpired},
		{name: "gone from the store", late: DefaultTokenTTL + expiredGrace, want: gen.ErrorCodeCaptchaInvalid},
		{name: "other application", edit: func(r *captcha.Request) { r.ClientID = "other" }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "other tenant", edit: func(r *captcha.Request) { r.TenantID = "t2" }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "point changed", edit: func(r *captcha.Request) { r.Token = strings.Replace(r.Token, `"y":5.0`, `"y":6.0`, 1) }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "no separator", edit: func(r *captcha.Request) { r.Token = strings.Replace(r.Token, "---", "--", 1) }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "no point", edit: func(r *captcha.Request) { r.Token, _, _ = strings.Cut(r.Token, "---"); r.Token += "---" }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "bare token", edit: func(r *captcha.Request) { r.Token, _, _ = strings.Cut(r.Token, "---") }, want: gen.ErrorCodeCaptchaInvalid},
		{name: "empty", edit: func(r *captcha.Request) { r.Token = "" }, want: gen.ErrorCodeCaptchaInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newQuickFixture(t)
			scope := apps.Scope(testScope, "t1")
			p, err := f.s.Issue(context.Background(), scope)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := f.keep.peek(PuzzleKey(scope, p.Token))
			rec, _ := decodePuzzle(e.value)
			ct, err := f.s.Check(context.Background(), scope, p.Token, point(float64(rec.X)), testMobile)
			if err != nil {
				t.Fatal(err)
			}
			req := captcha.Request{Token: ct, Mobile: testMobile, ClientID: testScope, TenantID: "t1", RemoteIP: "203.0.113.7"}
			if tt.edit != nil {
				tt.edit(&req)
			}
			f.clock.Advance(tt.late)
			if code := codeOf(t, f.s.Verify(context.Background(), req)); code != tt.want {
				t.Fatalf("Verify() code %q, want %q", code, tt.want)
			}
		})
	}
}

// A captcha_token is spent by its first presentation, whatever its
// outcome: even a wrong sender burns it.
func TestVerifySingleUse(t *testing.T) {
	for _, first := range []struct {
		name   string
		mobile string
	}{{"after a pass", testMobile}, {"after a wrong sender", "+8613800000000"}} {
		t.Run(first.name, func(t *testing.T) {
			f := newQuickFixture(t)
			p, rec := f.issue(t)
			ct, err := f.s.Check(context.Background(), testScope, p.Token, point(float64(rec.X)), testMobile)
			if err != nil {
				t.Fatal(err)
			}
			req := captcha.Request{Token: ct, Mobile: first.mobile, ClientID: testScope}
			_ = f.s.Verify(context.Background(), req)
			req.Mobile = testMobile
			if code := codeOf(t, f.s.Verify(context.Background(), req)); code != gen.ErrorCodeCaptchaInvalid {
				t.Errorf("reuse: code %q, want CAPTCHA.0004", code)
			}
		})
	}
}

// The store failing fails closed with SYS.0002 at every step.
func TestStoreFailure(t *testing.T) {
	f := newQuickFixture(t)
	p, rec := f.issue(t)
	boom := errors.New("connection refused")
	f.keep.fail(boom)
	ctx := context.Background()

	_, err := f.s.Issue(ctx, testScope)
	if codeOf(t, err) != gen.ErrorCodeStoreUnavailable || !errors.Is(err, boom) {
		t.Errorf("Issue: %v, want SYS.0002 wrapping the cause", err)
	}
	_, err = f.s.Check(ctx, testScope, p.Token, point(float64(rec.X)), testMobile)
	if codeOf(t, err) != gen.ErrorCodeStoreUnavailable {
		t.Errorf("Check: %v, want SYS.0002", err)
	}
	err = f.s.Verify(ctx, captcha.Request{Token: p.Token + "---" + point(1), Mobile: testMobile, ClientID: testScope})
	if codeOf(t, err) != gen.ErrorCodeStoreUnavailable {
		t.Errorf("Verify: %v, want SYS.0002", err)
	}
}

// The scope and keys match captcha.SingleUseKey's "{client/tenant}" form.
func TestKeys(t *testing.T) {
	single := captcha.SingleUseKey(captcha.Request{ClientID: "c", TenantID: "t", Token: "x"})
	prefix := single[:strings.Index(single, "}")+1]
	if got := PuzzleKey(apps.Scope("c", "t"), "tok"); got != prefix+":slider:puzzle:tok" {
		t.Errorf("PuzzleKey = %q, want prefix %q", got, prefix)
	}
	if got := VerifiedKey(apps.Scope("c", ""), "tok"); got != "{c}:slider:verified:tok" {
		t.Errorf("VerifiedKey = %q", got)
	}
}

// BenchmarkIssue measures drawing and storing a puzzle; it reports
// puzzles per second on one goroutine and the base64 bytes a client gets.
func BenchmarkIssue(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	var size int
	for b.Loop() {
		p, err := f.s.Issue(ctx, testScope)
		if err != nil {
			b.Fatal(err)
		}
		size += len(p.Background) + len(p.Piece)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puzzles/s")
	b.ReportMetric(float64(size)/float64(b.N), "b64bytes/puzzle")
}

// BenchmarkCheck measures answering a puzzle, the store included; the
// answers are put in the store directly, as drawing is BenchmarkIssue's.
func BenchmarkCheck(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	rec := puzzleRecord{X: 100, Y: 20, Issued: f.clock.Now().UnixNano()}
	token := strings.Repeat("0", 2*tokenBytes)
	for b.Loop() {
		if err := f.keep.Put(ctx, PuzzleKey(testScope, token), rec.encode(), time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, err := f.s.Check(ctx, testScope, token, point(100), testMobile); err != nil {
			b.Fatal(err)
		}
	}
}

// The global budget: PuzzleBurst puzzles at once, then CAPTCHA.0007 with a
// Retry-After until the bucket refills at PuzzlesPerSecond; and no more
// than MaxDrawing puzzles drawn at the same time.
func TestBudget(t *testing.T) {
	ctx := context.Background()
	t.Run("rate", func(t *testing.T) {
		k := newMemKeeper(time.Now)
		s, err := New(Config{PuzzlesPerSecond: 2, PuzzleBurst: 3}, k)
		if err != nil {
			t.Fatal(err)
		}
		s.draw = func(w, h, p int) (rendered, error) { return rendered{x: 100, y: 4}, nil }
		for i := range 3 {
			if _, err := s.Issue(ctx, testScope); err != nil {
				t.Fatalf("puzzle %d of the burst: %v", i+1, err)
			}
		}
		_, err = s.Issue(ctx, testScope)
		var e *apierr.Error
		if !errors.As(err, &e) || e.Code != gen.ErrorCodeCaptchaTooMany || e.RetryAfter <= 0 || e.RetryAfter > 500*time.Millisecond {
			t.Fatalf("beyond the burst: %v, want CAPTCHA.0007 with a Retry-After of at most 0.5 s", err)
		}
		time.Sleep(e.RetryAfter + 10*time.Millisecond)
		if _, err := s.Issue(ctx, testScope); err != nil {
			t.Fatalf("after Retry-After: %v", err)
		}
	})
	t.Run("drawing", func(t *testing.T) {
		k := newMemKeeper(time.Now)
		s, err := New(Config{MaxDrawing: 1}, k)
		if err != nil {
			t.Fatal(err)
		}
		started, release := make(chan struct{}), make(chan struct{})
		s.draw = func(w, h, p int) (rendered, error) {
			close(started)
			<-release
			return rendered{x: 100, y: 4}, nil
		}
		done := make(chan error, 1)
		go func() { _, err := s.Issue(ctx, testScope); done <- err }()
		<-started
		_, err = s.Issue(ctx, testScope)
		close(release)
		if !errors.Is(err, apierr.New(gen.ErrorCodeCaptchaTooMany)) {
			t.Errorf("while one is drawn: %v, want CAPTCHA.0007", err)
		}
		if err := <-done; err != nil {
			t.Errorf("the one drawn: %v", err)
		}
	})
	t.Run("config", func(t *testing.T) {
		for _, cfg := range []Config{{PuzzlesPerSecond: -1}, {PuzzlesPerSecond: math.NaN()}, {PuzzleBurst: -1}, {MaxDrawing: -1}} {
			if _, err := New(cfg, newMemKeeper(time.Now)); err == nil {
				t.Errorf("New(%+v) accepted", cfg)
			}
		}
	})
}
