package metrics_test

import (
	"testing"

	"github.com/smscode/smscode/server/metrics"
)

// BenchmarkSendCounters is what an accepted send costs in metrics outside
// the HTTP middleware: its send, its conversion denominator and its
// captcha check.
func BenchmarkSendCounters(b *testing.B) {
	m := metrics.New(metrics.WithClientIDs(func(id string) bool { return id == "smscode-demo-client" }))
	b.ReportAllocs()
	for b.Loop() {
		m.CaptchaCheck("none", metrics.CaptchaStepToken, metrics.CaptchaPassed)
		m.Send("smscode-demo-client", "LOGIN_SMS", "sent", "null")
		m.CodeSent("smscode-demo-client", "LOGIN_SMS", 86)
	}
}
