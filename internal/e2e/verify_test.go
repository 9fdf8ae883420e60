package e2e

import (
	"context"
	"fmt"
	"net/http"
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

	shots, took := c.burst(t, n, n, func(ctx context.Context, in *instance, i int) (reply, error) {
		return post(ctx, in.url+"/api/v2/sdk/sms/verify", headers(loadApp, fmt.Sprintf("guesser-%d", i)),
			map[string]string{"mobile": mobile, "type": "LOGIN_SMS", "verify_code": wrong})
	})
	counts := tally(t, shots)
	t.Logf("%d concurrent wrong guesses on two instances answered in %v: %v", n, took.Round(time.Millisecond), counts)
	for i, s := range shots {
		if s.err == nil && s.r.Status == http.StatusTooManyRequests && (s.r.RetryAfter < 86300 || s.r.RetryAfter > 86400) {
			t.Errorf("guess %d: Retry-After %d, want about a day", i, s.r.RetryAfter)
		}
	}
	wantCounts := map[outcome]int{
		{http.StatusBadRequest, "VERIFY.0001"}:      5,
		{http.StatusTooManyRequests, "VERIFY.0008"}: n - 5,
	}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("answers %v, want %v", counts, wantCounts)
	}
}
