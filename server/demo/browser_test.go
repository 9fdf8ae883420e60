package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/smscode/smscode/internal/testutil"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/wire"
)

// Environment variables of the browser test.
const (
	// envRequireBrowser, set to 1, turns a missing Chromium from a skip
	// into a failure: CI sets it so that the test cannot silently vanish.
	envRequireBrowser = "SMSCODE_REQUIRE_BROWSER"
	// envArtifacts names a directory for the screenshots; CI keeps it.
	envArtifacts = "SMSCODE_ARTIFACTS"
)

// The browser test's limits. The whole flow takes a few seconds; the
// limits only stop a hung browser from holding CI.
const (
	browserTimeout = 90 * time.Second
	stepTimeout    = 20 * time.Second
)

// chromium returns the path of a Chromium to drive, or skips the test (or
// fails it, when CI requires the browser) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testutil.SkipGroup(t, "Chromium (demo browser tests)", envRequireBrowser, "apt-get install chromium",
		"no /usr/bin/chromium, nor chromium in PATH")
	return ""
}

// startServer runs the real server, as `make run` assembles it from the
// embedded defaults (dev mode, log SMS provider, the slider captcha), on a
// loopback port, so that /demo and its dev outbox are served. Each change
// edits that configuration first (another captcha kind, say).
func startServer(t *testing.T, changes ...func(*config.Config)) (*httptest.Server, *wire.Runtime) {
	t.Helper()
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	// Dev mode generates its secret into a file: keep it out of the tree.
	cfg.SecretFile = filepath.Join(t.TempDir(), "secret")
	for _, change := range changes {
		change(&cfg)
	}
	// The log provider writes each SMS at warning level: show those, so a
	// failing run's output holds the messages the page should have shown.
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, err := wire.Build(cfg, log, wire.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.Server.Handler())
	// Cleanups run last in, first out: the server stops before the store.
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(srv.Close)
	return srv, rt
}

// artifacts returns the directory for screenshots: $SMSCODE_ARTIFACTS
// (created if need be), else a temporary one.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(envArtifacts)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one tab of a headless Chromium, and the test that drives it.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string // where screenshots go
}

// newBrowser starts headless Chromium with the flags that work on CI's
// machines (no sandbox as root, no GPU, no network but loopback) and a
// fresh profile, and stops it when the test ends.
func newBrowser(t *testing.T, execPath string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// The machine's network is closed: anything but loopback is refused,
		// so nothing that phones home may start.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		// Wider than the page's 360 px column (and headless Chromium's
		// narrowest window), tall enough to show the slider and #status.
		chromedp.WindowSize(500, 1100),
	)
	// The timeout bounds the whole browser's life, not one step: a hung
	// Chromium ends with the test instead of holding CI.
	ctx, cancelTimeout := context.WithTimeout(t.Context(), browserTimeout)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(func() {
		// Closing the tab, then the allocator, waits for Chromium to exit,
		// before t.TempDir removes its profile.
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so that a broken installation fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return &browser{t: t, ctx: ctx, dir: artifacts(t)}
}

// watchConsole logs the page's console and fails the test on an uncaught
// exception. Failed requests (the wrong slide's 400) are logged only: the
// browser reports each non-2xx fetch as an error, and the page handles
// them. The returned func stops the watcher and waits for it, so that it
// logs nothing after the test has ended.
func (b *browser) watchConsole() (wait func()) {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(b.ctx)
	messages := chromedp.Console(ctx)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() {
				b.t.Errorf("page exception: %s", m)
			} else {
				b.t.Logf("console %s: %s", m.Type, m.Text)
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// do runs actions, failing the test (with a screenshot) on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// fail ends the test, saving what the page showed and what #status said.
func (b *browser) fail(what string, err error) {
	b.t.Helper()
	if b.ctx.Err() == nil {
		b.screenshot("failed")
		if s, e := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("status"))); e == nil {
			b.t.Logf("#status: %q", s)
		}
	}
	b.t.Fatalf("%s: %v", what, err)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

// waitFor waits until a JavaScript condition holds in the page: a state
// the page reaches, never a fixed sleep.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		b.fail("wait for "+what, err)
	}
}

// statusView is what #status shows.
type statusView struct {
	Class string `json:"class"` // ok or err
	Code  string `json:"code"`  // data-code: the API's error code, or empty
	Text  string `json:"text"`
}

// waitStatus waits until #status reports step, and returns its class (ok
// or err) and data-code (the API's error code, empty on success).
func (b *browser) waitStatus(step string) (class, code string) {
	b.t.Helper()
	b.waitFor("#status of "+step, fmt.Sprintf(`document.getElementById('status').dataset.step === %q`, step))
	s := eval[statusView](b, `(() => { const s = document.getElementById('status');
		return {class: s.className, code: s.dataset.code || '', text: s.textContent}; })()`)
	b.t.Logf("#status: %s", s.Text)
	return s.Class, s.Code
}

// screenshot saves the whole page as a PNG and logs its path.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.dir, "demo-browser-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// puzzleToken returns the token of the puzzle on screen.
func (b *browser) puzzleToken() string {
	b.t.Helper()
	token := eval[string](b, `document.getElementById('puzzle-bg').dataset.token || ''`)
	if token == "" {
		b.t.Fatal("#puzzle-bg has no data-token")
	}
	return token
}

// getPuzzle clicks #get-puzzle and waits until the picture and the piece
// are decoded and the page says the puzzle is ready.
func (b *browser) getPuzzle() {
	b.t.Helper()
	b.do("get a puzzle", chromedp.Click(chromedp.ID("get-puzzle")))
	if class, code := b.waitStatus("captcha"); class != "ok" {
		b.t.Fatalf("get puzzle: #status class %q, code %q", class, code)
	}
	b.do("see the puzzle", chromedp.WaitVisible(chromedp.ID("puzzle-bg")), chromedp.WaitVisible(chromedp.ID("puzzle-piece")))
	b.waitFor("decoded images", `(() => { const bg = document.getElementById('puzzle-bg'),
		p = document.getElementById('puzzle-piece');
		return bg.complete && bg.naturalWidth > 0 && p.complete && p.naturalWidth > 0; })()`)
}

// slide drags the slider handle with the mouse, as a person does, until
// the piece's left edge is at x (picture pixels), then lets go, which
// answers the puzzle. It converts x to CSS pixels as the page does: the
// handle's travel along the track spans the piece's whole range of x.
func (b *browser) slide(x int) {
	b.t.Helper()
	b.do("scroll to the slider", chromedp.ScrollIntoView(chromedp.ID("slider-track")))
	g := eval[struct {
		X      float64 `json:"x"`      // the handle's centre, viewport CSS px
		Y      float64 `json:"y"`      //
		Travel float64 `json:"travel"` // how far the handle moves, CSS px
		MaxX   float64 `json:"maxX"`   // how far the piece moves, picture px
	}](b, `(() => {
		const h = document.getElementById('slider-handle'), r = h.getBoundingClientRect();
		const track = document.getElementById('slider-track');
		const bg = document.getElementById('puzzle-bg'), piece = document.getElementById('puzzle-piece');
		return {x: r.left + r.width / 2, y: r.top + r.height / 2,
			travel: track.clientWidth - h.offsetWidth, maxX: bg.naturalWidth - piece.naturalWidth};
	})()`)
	if g.Travel <= 0 || g.MaxX <= 0 || float64(x) > g.MaxX {
		b.t.Fatalf("slider geometry %+v cannot reach x=%d", g, x)
	}
	to := g.X + float64(x)*g.Travel/g.MaxX

	// Press, move in small steps with the button held (as pointermove
	// events with a captured pointer), check where the piece is, release.
	mouse := func(typ input.DispatchMouseEventType, at float64, buttons int64) chromedp.Action[chromedp.Void] {
		return chromedp.MouseEvent(typ, at, g.Y, func(p *input.DispatchMouseEventParams) {
			p.Button = input.MouseButtonLeft
			p.Buttons = buttons
			if typ != chromedp.MouseMoved {
				p.ClickCount = 1
			}
		})
	}
	steps := []chromedp.Action[chromedp.Void]{mouse(chromedp.MousePressed, g.X, 1)}
	const n = 12
	for i := 1; i <= n; i++ {
		steps = append(steps, mouse(chromedp.MouseMoved, g.X+(to-g.X)*float64(i)/n, 1))
	}
	b.do("drag the handle", steps...)
	// aria-valuenow is the piece's x, rounded: off by more than one pixel
	// would mean the test (or the page) scales wrongly.
	now := eval[string](b, `document.getElementById('slider-handle').getAttribute('aria-valuenow')`)
	var got float64
	if _, err := fmt.Sscan(now, &got); err != nil || math.Abs(got-float64(x)) > 1 {
		b.do("release the handle", mouse(chromedp.MouseReleased, to, 0))
		b.t.Fatalf("dragged to x=%d, the page shows aria-valuenow=%q", x, now)
	}
	b.do("release the handle", mouse(chromedp.MouseReleased, to, 0))
}

// The demo page in a real browser, as a person uses it: get a puzzle,
// drag the piece into the hole, send a code, read it from the dev outbox,
// type it, verify it; then a wrong slide, which the server refuses.
func TestBrowserFlow(t *testing.T) {
	execPath := chromium(t)
	srv, rt := startServer(t)
	b := newBrowser(t, execPath)
	defer b.watchConsole()()
	start := time.Now()

	const mobile = "13812345678"
	app := rt.Config.Apps[0]
	scope := apps.Scope(app.ClientID, app.TenantID)
	// holeX reads the hole's x of the puzzle on screen from the store
	// without spending the puzzle: the test's eyes.
	holeX := func() int {
		t.Helper()
		x, err := slider.PeekAnswer(b.ctx, rt.Store, scope, b.puzzleToken())
		if err != nil {
			t.Fatal(err)
		}
		return x
	}

	// 1. The page loads and reads its configuration.
	b.do("open /demo",
		chromedp.Navigate(srv.URL+"/demo"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
	)
	if got := eval[string](b, `document.getElementById('client-id').value`); got != app.ClientID {
		t.Errorf("#client-id is %q, want the default app's %q", got, app.ClientID)
	}
	if disabled := eval[bool](b, `document.getElementById('send').disabled`); !disabled {
		t.Error("#send is enabled before the puzzle is solved")
	}
	b.do("type the number", chromedp.SendKeys(chromedp.ID("mobile"), mobile))
	b.screenshot("1-loaded")

	// 2. A puzzle.
	b.getPuzzle()
	x := holeX()
	t.Logf("the hole is at x=%d", x)
	b.screenshot("2-puzzle")

	// 3. Slide the piece into the hole.
	b.slide(x)
	if class, code := b.waitStatus("captcha/verify"); class != "ok" || code != "" {
		t.Fatalf("captcha/verify at the hole's x: #status class %q, code %q", class, code)
	}
	b.waitFor("the track's success state", `document.getElementById('slider-track').classList.contains('ok')`)
	b.screenshot("3-slid")

	// 4. Choose a scenario and send the code; the dev outbox shows it.
	const scenario = "REGISTER_SMS"
	b.do("choose the scenario and send",
		chromedp.SetValue(chromedp.ID("scenario"), scenario),
		chromedp.WaitEnabled(chromedp.ID("send")),
		chromedp.Click(chromedp.ID("send")),
	)
	if class, code := b.waitStatus("sms/send"); class != "ok" {
		t.Fatalf("sms/send: #status class %q, code %q", class, code)
	}
	// The page fills the outbox after reporting the send.
	b.waitFor("the outbox", `(() => { const o = document.getElementById('outbox');
		return !document.getElementById('outbox-box').hidden && o.textContent.includes('"text"'); })()`)
	b.do("show the outbox", chromedp.ScrollIntoView(chromedp.ID("outbox")))
	b.screenshot("4-sent")
	outbox, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("outbox")))
	if err != nil {
		b.fail("read the outbox", err)
	}
	var msg struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(outbox), &msg); err != nil {
		t.Fatalf("#outbox is not the outbox's JSON: %v\n%s", err, outbox)
	}
	if !strings.HasSuffix(msg.To, "5678") || strings.Contains(msg.To, mobile) {
		t.Errorf("outbox to %q: want the number masked", msg.To)
	}
	// The code is the one run of 4 to 10 digits in the text (the validity
	// in minutes is shorter).
	codes := regexp.MustCompile(`\d{4,10}`).FindAllString(msg.Text, -1)
	if len(codes) != 1 {
		t.Fatalf("want one code in the SMS %q, found %q", msg.Text, codes)
	}
	code := codes[0]
	// As a convenience the page copies the code into the field; it must
	// be the code, not digits of the masked number.
	if got := eval[string](b, `document.getElementById('code').value`); got != code {
		t.Errorf("#code was filled with %q, the SMS says %q", got, code)
	}

	// 5. Type the code and verify it.
	// The page filled the field already; empty it and type, as a person
	// reading the SMS would. (chromedp.Clear only resets the value
	// attribute, which a filled field no longer follows, and SetValue
	// cannot set "": v0.23.0 drops an empty string argument.)
	eval[chromedp.Void](b, `document.getElementById('code').value = ''`)
	b.do("type the code and verify",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("verify")),
	)
	if class, code := b.waitStatus("sms/verify"); class != "ok" || code != "" {
		t.Errorf("sms/verify: #status class %q, code %q", class, code)
	}
	b.do("show the result", chromedp.ScrollIntoView(chromedp.ID("status")))
	b.screenshot("5-verified")

	// 6. A new puzzle, slid 20 px off the hole: refused as CAPTCHA.0002.
	b.getPuzzle()
	x = holeX()
	wrong := x + 20
	if max := eval[int](b, `document.getElementById('puzzle-bg').naturalWidth - document.getElementById('puzzle-piece').naturalWidth`); wrong > max {
		// Clamped at the right edge, x+20 might land within the tolerance.
		wrong = x - 20
	}
	b.slide(wrong)
	if class, code := b.waitStatus("captcha/verify"); class != "err" || code != "CAPTCHA.0002" {
		t.Errorf("captcha/verify 20 px off (hole %d, slid to %d): #status class %q, code %q, want err CAPTCHA.0002",
			x, wrong, class, code)
	}
	b.waitFor("the track's failure state", `document.getElementById('slider-track').classList.contains('err')`)
	if disabled := eval[bool](b, `document.getElementById('send').disabled`); !disabled {
		t.Error("#send is enabled after a failed puzzle")
	}
	b.do("show the result", chromedp.ScrollIntoView(chromedp.ID("status")))
	b.screenshot("6-wrong-slide")
	t.Logf("browser flow took %s", time.Since(start).Round(time.Millisecond))
}
