package sender_test

import (
	"net/http"
	"testing"

	"github.com/smscode/smscode/internal/metricstest"
	"github.com/smscode/smscode/server/servertest"
)

// captchaChecks reads smscode_captcha_checks_total by step and outcome for
// the slider (the seed application's kind).
func captchaChecks(t *testing.T, env *servertest.Env) map[[2]string]float64 {
	t.Helper()
	out := map[[2]string]float64{}
	for _, m := range metricstest.Samples(t, env.Runtime.Metrics.Registry(), "smscode_captcha_checks_total", nil) {
		l := metricstest.Labels(m)
		if l["kind"] != "slider" {
			t.Errorf("captcha check counted under kind %q, want slider", l["kind"])
		}
		out[[2]string{l["step"], l["outcome"]}] += m.GetCounter().GetValue()
	}
	return out
}

// Slider answers and the captcha_token of sends are counted by outcome: a
// wrong position and a replayed token fail, a right answer and its first
// use pass.
func TestCaptchaChecksCounted(t *testing.T) {
	env := servertest.New(t)
	token, x := puzzle(t, env)
	wantError(t, solve(t, env, token, x+6, seedMobile), http.StatusBadRequest, "CAPTCHA.0002")
	token, x = puzzle(t, env)
	ct := captchaToken(t, solve(t, env, token, x, seedMobile))
	wantOK(t, sendWith(t, env, seedMobile, ct))
	wantError(t, sendWith(t, env, "13800000009", ct), http.StatusBadRequest, "CAPTCHA.0004") // used up

	want := map[[2]string]float64{
		{"answer", "failed"}: 1,
		{"answer", "passed"}: 1,
		{"token", "passed"}:  1,
		{"token", "failed"}:  1,
	}
	got := captchaChecks(t, env)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("smscode_captcha_checks_total{step=%q,outcome=%q} = %v, want %v", k[0], k[1], got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("counted %v, want only %v", got, want)
	}
}
