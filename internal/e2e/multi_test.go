package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// outcome is the status and error code of one answer, for counting.
type outcome struct {
	Status int
	Code   string
}

// 200 concurrent sends for one number, alternating between two instances,
// give exactly one SMS: the cooldown is one Redis key for both, reserved
// atomically, so the 199 others are refused with SMS.0001 and send nothing.
func TestConcurrentSendsAcrossInstances(t *testing.T) {
	const n = 200
	c := startCluster(t, 2, 0)
	const mobile = "13800138000"

	shots, took := c.burst(t, n, n, func(ctx context.Context, in *instance, i int) (reply, error) {
		return in.trySend(ctx, sendReq{app: loadApp, mobile: mobile, device: fmt.Sprintf("dev-%d", i)})
	})
	counts := tally(t, shots)
	t.Logf("%d concurrent sends answered in %v: %v", n, took.Round(time.Millisecond), counts)
	perNode := map[string]int{}
	for i, s := range shots {
		if s.err != nil {
			continue
		}
		perNode[s.node]++
		if s.r.Status == http.StatusTooManyRequests && (s.r.RetryAfter < 1 || s.r.RetryAfter > 60) {
			t.Errorf("request %d: Retry-After %d, want 1..60 (the cooldown)", i, s.r.RetryAfter)
		}
	}

	wantCounts := map[outcome]int{{http.StatusOK, ""}: 1, {http.StatusTooManyRequests, "SMS.0001"}: n - 1}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("answers %v, want %v", counts, wantCounts)
	}
	if perNode["A"] != n/2 || perNode["B"] != n/2 {
		t.Errorf("answers per instance %v, want %d each", perNode, n/2)
	}
	if got := len(c.gw.to(e164(mobile))); got != 1 || c.gw.count() != 1 {
		t.Errorf("gateway got %d messages for the number (%d in all), want exactly 1", got, c.gw.count())
	}
}

// A CAPTCHA token is spent by its first presentation on any instance: the
// other instance refuses it with CAPTCHA.0004 without asking siteverify
// again, whether the first presentation passed or failed.
func TestCaptchaTokenSingleUseAcrossInstances(t *testing.T) {
	c := startCluster(t, 2, 0)
	steps := []struct {
		name   string
		node   int
		token  string
		mobile string
		status int
		code   string
		calls  int64 // siteverify calls after the step, in all
		sms    int   // gateway messages after the step, in all
	}{
		{"good token on A", 0, "good-e2e-1", "13800000001", http.StatusOK, "", 1, 1},
		{"same token on B", 1, "good-e2e-1", "13800000002", http.StatusBadRequest, "CAPTCHA.0004", 1, 1},
		{"same token on A again", 0, "good-e2e-1", "13800000003", http.StatusBadRequest, "CAPTCHA.0004", 1, 1},
		{"failing token on B", 1, "bad-e2e-2", "13800000004", http.StatusBadRequest, "CAPTCHA.0002", 2, 1},
		{"failing token retried on A", 0, "bad-e2e-2", "13800000004", http.StatusBadRequest, "CAPTCHA.0004", 2, 1},
		{"fresh good token on B", 1, "good-e2e-3", "13800000005", http.StatusOK, "", 3, 2},
	}
	for _, s := range steps {
		r := c.nodes[s.node].send(t, sendReq{app: captchaApp, mobile: s.mobile, token: s.token, device: "captcha-dev"})
		want(t, s.name, r, s.status, s.code)
		if got := c.sv.calls.Load(); got != s.calls {
			t.Errorf("%s: siteverify called %d times in all, want %d", s.name, got, s.calls)
		}
		if got := c.gw.count(); got != s.sms {
			t.Errorf("%s: gateway has %d messages, want %d", s.name, got, s.sms)
		}
	}
}

// Wrong verify attempts are counted once, in Redis, whichever instance
// takes them: five wrong codes alternating between instances use up the
// caller's five wrong codes for the number today, and then even the right
// code is refused on both (429 VERIFY.0008).
func TestVerifyAttemptsSharedAcrossInstances(t *testing.T) {
	c := startCluster(t, 2, 0)
	const mobile = "13900000001"
	a, b := c.nodes[0], c.nodes[1]
	want(t, "send via A", a.send(t, sendReq{app: loadApp, mobile: mobile, device: "attempts"}), http.StatusOK, "")
	code := onlyCode(t, c.gw, mobile)
	wrong := wrongCode(code)
	for i := range 5 {
		node := c.nodes[i%2]
		want(t, fmt.Sprintf("wrong attempt %d via %s", i+1, node.name), node.verify(t, mobile, wrong), http.StatusBadRequest, "VERIFY.0001")
	}
	want(t, "right code via B after 5 wrong", b.verify(t, mobile, code), http.StatusTooManyRequests, "VERIFY.0008")
	want(t, "right code via A after 5 wrong", a.verify(t, mobile, code), http.StatusTooManyRequests, "VERIFY.0008")
}

// A code sent by one instance verifies on the other, once: a second verify
// of the same code, on either instance, finds it consumed.
func TestCodeConsumedOnceAcrossInstances(t *testing.T) {
	c := startCluster(t, 2, 0)
	const mobile = "13900000002"
	a, b := c.nodes[0], c.nodes[1]
	want(t, "send via B", b.send(t, sendReq{app: loadApp, mobile: mobile, device: "consume"}), http.StatusOK, "")
	code := onlyCode(t, c.gw, mobile)
	want(t, "right code via A", a.verify(t, mobile, code), http.StatusOK, "")
	want(t, "same code via B", b.verify(t, mobile, code), http.StatusBadRequest, "VERIFY.0002")
	want(t, "same code via A", a.verify(t, mobile, code), http.StatusBadRequest, "VERIFY.0002")
}

// onlyCode returns the code of the one message the gateway holds for an
// 11-digit number, failing unless there is exactly one.
func onlyCode(t *testing.T, gw *gateway, mobile string) string {
	t.Helper()
	msgs := gw.to(e164(mobile))
	if len(msgs) != 1 {
		t.Fatalf("gateway has %d messages for %s, want 1", len(msgs), mobile)
	}
	return msgs[0].Code
}

// wrongCode changes every digit of code, so that it cannot match.
func wrongCode(code string) string {
	b := []byte(code)
	for i, d := range b {
		b[i] = '0' + (d-'0'+1)%10
	}
	return string(b)
}

// Redis is killed and restarted under load. While it is down both instances
// fail closed: every send is 503 SYS.0002 and sends nothing (no SMS without
// a limit check), and /readyz is 503. Once it is back the same processes
// send again within seconds and /readyz is 200. Throughout, every 200 has
// exactly one SMS and every other answer none.
func TestRedisOutageUnderLoad(t *testing.T) {
	const (
		workers     = 8
		maxRequests = 3000                 // bounds the run whatever the timings
		pause       = 5 * time.Millisecond // between one worker's requests
		phaseLimit  = 10 * time.Second     // bound on each phase below
		readyLimit  = 5 * time.Second      // an instance's /readyz back to 200 after sends recovered
		perReq      = 10 * time.Second     // bound on one request
		okBefore    = 20                   // successes before the kill
		failsDuring = 16                   // 503s seen while Redis is down
		okAfter     = 20                   // successes after the restart
		prefix      = "137"                // numbers 137xxxxxxxx, one per request
		mobileFmt   = prefix + "%08d"      // the i-th request's number
		deviceFmt   = "load-device-%d"     // a fingerprint per request
		sysDown     = "SYS.0002"           // the store is unavailable
	)
	c := startCluster(t, 2, 0)

	type result struct {
		node string
		r    reply
		err  error
		took time.Duration
		done bool
	}
	results := make([]result, maxRequests) // index i is written by one worker only
	var next, ok, down atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	began := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := next.Add(1) - 1
				if i >= maxRequests {
					return
				}
				node := c.nodes[i%2]
				ctx, cancel := context.WithTimeout(context.Background(), perReq)
				sent := time.Now()
				r, err := node.trySend(ctx, sendReq{app: loadApp, mobile: fmt.Sprintf(mobileFmt, i),
					device: fmt.Sprintf(deviceFmt, i)})
				cancel()
				results[i] = result{node: node.name, r: r, err: err, took: time.Since(sent), done: true}
				switch {
				case err != nil: // reported with the other results below
				case r.Status == http.StatusOK:
					ok.Add(1)
				case r.Status == http.StatusServiceUnavailable && r.Code == sysDown:
					down.Add(1)
				}
				time.Sleep(pause)
			}
		})
	}
	// Stop the workers whatever happens below, before the cluster goes.
	stopWorkers := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWorkers()

	waitFor(t, "sends succeed before the outage", phaseLimit, func() bool { return ok.Load() >= okBefore })
	c.redis.Stop()
	killedAt := time.Now()
	okAtKill := ok.Load()
	failIn := waitFor(t, "sends fail while Redis is down", phaseLimit, func() bool { return down.Load() >= failsDuring })
	for _, in := range c.nodes {
		want(t, "GET /readyz on "+in.name+" while Redis is down", in.get(t, "/readyz"), http.StatusServiceUnavailable, sysDown)
	}
	okDuring := ok.Load() - okAtKill // sends already past their Redis step at the kill
	outage := time.Since(killedAt)

	c.redis.Restart()
	okAtRestart := ok.Load()
	recoverIn := waitFor(t, "sends succeed again after the restart", phaseLimit, func() bool { return ok.Load() >= okAtRestart+okAfter })
	// Each instance recovers on its own: the sends counted above may all
	// have gone through one of them, while the other's pool still waits
	// out go-redis's dial back-off (it retries a failed dial about once a
	// second), so each gets its own few seconds.
	for _, in := range c.nodes {
		took := waitFor(t, "GET /readyz on "+in.name+" 200 after the restart", readyLimit, func() bool {
			return in.get(t, "/readyz").Status == http.StatusOK
		})
		t.Logf("/readyz on %s answered 200 %v after sends succeeded again", in.name, took.Round(time.Millisecond))
	}
	stopWorkers()

	// The same processes served throughout: none was restarted.
	for _, in := range c.nodes {
		if !in.running() {
			t.Fatalf("instance %s exited during the outage", in.name)
		}
	}

	// Every answer is a 200 with exactly one SMS, or a 503 SYS.0002 with
	// none; nothing else, and no SMS for a number nobody was told was sent.
	byNumber := c.gw.byNumber()
	counts := map[outcome]int{}
	slowest := map[outcome]time.Duration{}
	n := int(min(next.Load(), maxRequests))
	for i := range n {
		res := results[i]
		mobile := fmt.Sprintf(mobileFmt, i)
		if !res.done {
			t.Errorf("request %d was taken but never answered", i)
			continue
		}
		if res.err != nil {
			t.Errorf("request %d via %s: %v", i, res.node, res.err)
			continue
		}
		o := outcome{res.r.Status, res.r.Code}
		counts[o]++
		slowest[o] = max(slowest[o], res.took.Round(time.Millisecond))
		msgs := len(byNumber[e164(mobile)])
		switch {
		case res.r.Status == http.StatusOK:
			if msgs != 1 {
				t.Errorf("request %d via %s: 200 with %d SMS, want 1", i, res.node, msgs)
			}
		case res.r.Status == http.StatusServiceUnavailable && res.r.Code == sysDown:
			if msgs != 0 {
				t.Errorf("request %d via %s: %v but the gateway got %d SMS (an SMS without a limit check)", i, res.node, res.r, msgs)
			}
		default:
			t.Errorf("request %d via %s: %v, want 200 or 503 %s", i, res.node, res.r, sysDown)
		}
	}
	total := 0
	for num, msgs := range byNumber {
		total += len(msgs)
		if !strings.HasPrefix(num, "+86"+prefix) {
			t.Errorf("gateway got an SMS for %s, which no request asked for", num)
		}
	}
	if ok200 := counts[outcome{http.StatusOK, ""}]; total != ok200 {
		t.Errorf("gateway got %d SMS for %d answers 200", total, ok200)
	}
	if counts[outcome{http.StatusServiceUnavailable, sysDown}] < failsDuring {
		t.Errorf("only %d answers 503 %s", counts[outcome{http.StatusServiceUnavailable, sysDown}], sysDown)
	}

	// Limits work again on the restarted (empty) Redis: a second send to a
	// number within its cooldown is refused, on the other instance.
	const again = "13600000000"
	want(t, "send after recovery via A", c.nodes[0].send(t, sendReq{app: loadApp, mobile: again, device: "again-1"}), http.StatusOK, "")
	want(t, "resend after recovery via B", c.nodes[1].send(t, sendReq{app: loadApp, mobile: again, device: "again-2"}), http.StatusTooManyRequests, "SMS.0001")

	t.Logf("%d requests in %v: %v (slowest %v); %d SMS; %d sends completed after the kill; %d 503s %v after the kill; "+
		"Redis down %v; %d successes again %v after the restart",
		n, time.Since(began).Round(time.Millisecond), counts, slowest, total, okDuring, failsDuring, failIn.Round(time.Millisecond),
		outage.Round(time.Millisecond), okAfter, recoverIn.Round(time.Millisecond))
}

// SIGTERM while requests are in flight: the instance stops accepting, lets
// every in-flight send finish with its full answer, and exits 0; the other
// instance keeps serving.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	const (
		inFlight = 8
		delay    = 300 * time.Millisecond
	)
	c := startCluster(t, 2, delay)
	a, b := c.nodes[0], c.nodes[1]

	replies := make([]reply, inFlight)
	errs := make([]error, inFlight)
	took := make([]time.Duration, inFlight)
	var answered atomic.Int64
	var wg sync.WaitGroup
	for i := range inFlight {
		wg.Go(func() {
			start := time.Now()
			replies[i], errs[i] = a.trySend(context.Background(), sendReq{app: loadApp,
				mobile: fmt.Sprintf("1350000000%d", i), device: fmt.Sprintf("shutdown-%d", i)})
			took[i] = time.Since(start)
			answered.Add(1)
		})
	}
	// Every send is past its limits and waiting on the gateway: in flight.
	waitFor(t, "all sends reach the gateway", 10*time.Second, func() bool { return c.gw.arrived.Load() == inFlight })
	a.terminate(t)
	signalled := time.Now()
	// The listener closes first; the in-flight sends go on. How many had
	// been answered by then depends on scheduling, so it is reported, not
	// asserted.
	closedIn := waitFor(t, "instance A stops accepting connections", exitTimeout, func() bool {
		conn, err := net.DialTimeout("tcp", a.addr, 100*time.Millisecond)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	})
	answeredAtClose := answered.Load()
	wg.Wait()
	repliedIn := time.Since(signalled)
	code := a.wait(t)
	exitedIn := time.Since(signalled)

	for i := range inFlight {
		if errs[i] != nil {
			t.Errorf("in-flight send %d: %v", i, errs[i])
			continue
		}
		r := replies[i]
		if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `"OK"` ||
			r.Header.Get("X-Resend-After") != "60" || r.Header.Get("X-Code-Expires-In") != "300" {
			t.Errorf("in-flight send %d: %v (X-Resend-After %q, X-Code-Expires-In %q), want the full 200 answer",
				i, r, r.Header.Get("X-Resend-After"), r.Header.Get("X-Code-Expires-In"))
		}
		if took[i] < delay {
			t.Errorf("in-flight send %d answered in %v, before the gateway's %v delay", i, took[i], delay)
		}
	}
	if code != 0 {
		t.Errorf("instance A exited with %d after SIGTERM, want 0", code)
	}
	if got := c.gw.count(); got != inFlight {
		t.Errorf("gateway got %d messages, want %d", got, inFlight)
	}
	if !strings.Contains(a.out.String(), `"msg":"stopped"`) {
		t.Errorf("instance A did not log a clean stop")
	}

	// A is gone: it refuses connections. B, on the same Redis, still sends.
	if _, err := a.trySend(context.Background(), sendReq{app: loadApp, mobile: "13500000100", device: "after-a"}); err == nil {
		t.Errorf("instance A still answers after exiting")
	}
	want(t, "send via B after A stopped", b.send(t, sendReq{app: loadApp, mobile: "13500000101", device: "after-b"}), http.StatusOK, "")
	t.Logf("SIGTERM with %d sends in flight: listener closed %v later (%d answered by then), all answered %v later, exit %d %v after the signal",
		inFlight, closedIn.Round(time.Millisecond), answeredAtClose, repliedIn.Round(time.Millisecond), code, exitedIn.Round(time.Millisecond))
}
