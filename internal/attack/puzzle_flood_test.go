package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
)

const captchaPath = "/api/v2/sdk/captcha"

// The puzzle flood of issue 10: each puzzle costs milliseconds of CPU, and
// the per-IP limit (30 a minute) does not stop a client that comes from a
// new address every time. Eight workers ask for puzzles for floodFor, each
// request from a fresh loopback source address (a real bind to
// 127.w.x.y, no header trick), while an honest client asks for codes.
// The global budget must hold: no more puzzles drawn than the bucket lets
// through, every other answer 429 CAPTCHA.0007 with Retry-After, and the
// honest sends' p95 during the flood at most 50 ms above their p95 without
// it, measured just before in the same run (so that a machine slowed by
// other work, as under a full make test on two cores, moves both).
func TestPuzzleFloodFromRotatingAddresses(t *testing.T) {
	const (
		workers  = 8
		floodFor = 3 * time.Second
		honest   = 40 // under the 50 sends per IP and hour
		// The bound is on p95 (of 40 sends: all but the two slowest): one
		// or two sends stalled by another process on this 2-core machine
		// are noise, a flood that slows honest sends shows in most of them.
		// It is what the flood may add to the quiet p95: without the
		// budget, under -race, the flood put the p95 at 65 to 78 ms
		// against 4 to 5 quiet; with it, 12 to 14.
		honestP95 = 50 * time.Millisecond
		// Each worker asks at most every floodGap: 800 requests a second
		// in all, over twice the 300-360 puzzles a second that saturated
		// both cores before the budget, and 16 times the budget. An
		// unpaced loop would measure how fast this process can answer 429
		// to itself on two shared cores (and under -race), not the budget.
		floodGap = 10 * time.Millisecond
	)
	if _, err := net.Listen("tcp", "127.1.0.1:0"); err != nil {
		t.Skipf("cannot bind 127.1.0.1 (%v): this loopback is not 127.0.0.0/8", err)
	}
	// The default budget; under -race, where a puzzle costs 20 times the
	// CPU, cut by as much, so that the budget stands for the same share of
	// the machine.
	rate := float64(slider.DefaultPuzzlesPerSecond) / raceSlowdown
	burst := max(1, slider.DefaultPuzzleBurst/raceSlowdown)
	tg := start(t, servertest.WithConfig(func(c *config.Config) {
		c.Slider.PuzzlesPerSecond, c.Slider.PuzzleBurst = rate, burst
	}))

	// The honest client: one send at a time, every floodFor/honest, each
	// for a new number from a new device (so that no limit of its own is
	// reached), from 127.0.0.1; first without the flood, then during it.
	honestSends := func(phase string, first int) (lat []time.Duration, failed []string) {
		tick := time.NewTicker(floodFor / (honest + 2))
		defer tick.Stop()
		<-tick.C // a tick first: during the flood, to let it start
		for i := range honest {
			<-tick.C
			h := headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("honest-%s-device-%d", phase, i)})
			raw, _ := json.Marshal(sendBody(fmt.Sprintf("139%08d", first+i), bind))
			t0 := time.Now()
			r, err := tg.try(sendPath, h, raw)
			lat = append(lat, time.Since(t0))
			if err != nil || r.Status != http.StatusOK {
				failed = append(failed, fmt.Sprintf("%v %v", r, err))
			}
		}
		slices.Sort(lat)
		return lat, failed
	}
	p := func(lat []time.Duration, q float64) time.Duration {
		return lat[min(len(lat)-1, int(q*float64(len(lat))))]
	}
	quiet, failed := honestSends("quiet", 0)
	// A new hour on the store's clock: the address's hourly send limit (50)
	// starts again for the sends during the flood.
	tg.Clock.Advance(time.Hour + time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), floodFor)
	defer cancel()
	var drawn, refused, other, addr atomic.Int64
	var otherOnce sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now()
			for ctx.Err() == nil {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				next = next.Add(floodGap)
				n := addr.Add(1)
				// 127.1-8.x.y: a new source address for every request.
				src := &net.TCPAddr{IP: net.IPv4(127, byte(1+w), byte(n>>8), byte(n))}
				status, code, retry, err := getPuzzle(ctx, tg.URL, src)
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					other.Add(1)
					otherOnce.Do(func() { t.Logf("flood error: %v", err) })
				case status == http.StatusOK:
					drawn.Add(1)
				case status == http.StatusTooManyRequests && code == gen.ErrorCodeCaptchaTooMany && retry != "":
					refused.Add(1)
				default:
					other.Add(1)
					otherOnce.Do(func() { t.Logf("flood answer: %d %s Retry-After %q", status, code, retry) })
				}
			}
		}()
	}

	lat, floodFailed := honestSends("flood", honest)
	failed = append(failed, floodFailed...)
	cancel()
	wg.Wait()

	secs := floodFor.Seconds()
	total := drawn.Load() + refused.Load() + other.Load()
	t.Logf("budget %.1f puzzles/s, burst %d (race detector slowdown %d)", rate, burst, raceSlowdown)
	t.Logf("puzzle flood, %d workers, %v: %d requests (%.0f/s) from %d source addresses; %d puzzles drawn (%.0f/s), %d refused 429 CAPTCHA.0007, %d other",
		workers, floodFor, total, float64(total)/secs, addr.Load(), drawn.Load(), float64(drawn.Load())/secs, refused.Load(), other.Load())
	limit := p(quiet, 0.95) + honestP95
	for _, ph := range []struct {
		name string
		lat  []time.Duration
	}{{"without the flood", quiet}, {"during the flood", lat}} {
		t.Logf("honest sends %s: %d, p50 %v, p95 %v, p99 %v, max %v", ph.name, len(ph.lat),
			p(ph.lat, 0.5).Round(time.Microsecond), p(ph.lat, 0.95).Round(time.Microsecond),
			p(ph.lat, 0.99).Round(time.Microsecond), ph.lat[len(ph.lat)-1].Round(time.Microsecond))
	}
	t.Logf("limit on the p95 during the flood: the quiet p95 + %v = %v", honestP95, limit.Round(time.Microsecond))

	if len(failed) > 0 {
		t.Errorf("%d honest sends failed, first: %s", len(failed), failed[0])
	}
	if p(lat, 0.95) >= limit {
		t.Errorf("honest send p95 during the flood %v, want under %v", p(lat, 0.95), limit)
	}
	// The bucket starts full and refills at its rate; a little slack for
	// the time the flood takes to stop.
	budget := int64(float64(burst) + rate*(secs+0.5))
	if drawn.Load() > budget {
		t.Errorf("%d puzzles drawn in %v, over the budget of %d", drawn.Load(), floodFor, budget)
	}
	if refused.Load() == 0 {
		t.Error("no puzzle request was refused: the flood did not reach the budget")
	}
	if other.Load() > 0 {
		t.Errorf("%d flood requests got neither a puzzle nor 429 CAPTCHA.0007 with Retry-After", other.Load())
	}
}

// getPuzzle asks for a puzzle over a new connection from src and returns
// the status, the error code and Retry-After.
func getPuzzle(ctx context.Context, base string, src *net.TCPAddr) (int, gen.ErrorCode, string, error) {
	d := &net.Dialer{LocalAddr: src, Timeout: 5 * time.Second}
	c := &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+captchaPath, nil)
	if err != nil {
		return 0, "", "", err
	}
	req.Header = headers(map[string]string{"Content-Type": ""})
	res, err := c.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", "", err
	}
	var e gen.Error
	if res.StatusCode != http.StatusOK {
		_ = json.Unmarshal(b, &e)
	}
	return res.StatusCode, e.ErrorCode, res.Header.Get("Retry-After"), nil
}
