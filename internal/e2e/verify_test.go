package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// The verify limits hold exactly across instances, under concurrency:
// 200 concurrent wrong guesses for one number, alternating between two
// instances, each from a device of its own, get exactly 5 VERIFY.0001 (the
// wrong codes per number per day of the one client IP, 127.0.0.1), then
// 429 VERIFY.0008 with Retry-After a day: one Redis script decides each,
// so no race lets a guess through.
func TestVerifyLimitsExactAcrossInstances(t *testing.T) {
	const n = 200
	c := startCluster(t, 2, 0)
	const mobile = "13900000077"
	want(t, "send via A", c.nodes[0].send(t, sendReq{app: loadApp, mobile: mobile, device: "verify-limits"}), http.StatusOK, "")
	code := onlyCode(t, c.gw, mobile)
	wrong := wrongCode(code)

	start := make(chan struct{})
	var mu sync.Mutex
	counts := map[outcome]int{}
	var wg sync.WaitGroup
	for i := range n {
		node := c.nodes[i%2]
		wg.Go(func() {
			<-start
			r, err := post(context.Background(), node.url+"/api/v2/sdk/sms/verify", headers(loadApp, fmt.Sprintf("guesser-%d", i)),
				map[string]string{"mobile": mobile, "type": "LOGIN_SMS", "verify_code": wrong})
			if err != nil {
				t.Errorf("guess %d via %s: %v", i, node.name, err)
				return
			}
			if r.Status == http.StatusTooManyRequests && (r.RetryAfter < 86300 || r.RetryAfter > 86400) {
				t.Errorf("guess %d: Retry-After %d, want about a day", i, r.RetryAfter)
			}
			mu.Lock()
			counts[outcome{r.Status, r.Code}]++
			mu.Unlock()
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent wrong guesses on two instances answered in %v: %v", n, time.Since(began).Round(time.Millisecond), counts)
	wantCounts := map[outcome]int{
		{http.StatusBadRequest, "VERIFY.0001"}:      5,
		{http.StatusTooManyRequests, "VERIFY.0008"}: n - 5,
	}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("answers %v, want %v", counts, wantCounts)
	}
}
