package sender_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/otp"
	"github.com/smscode/smscode/server/sender"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store/memstore"
)

// BenchmarkSendLearning is one accepted send through the Service alone
// (memory store, null provider, no HTTP) with the learning pumping rule
// on, so that both pumping rules key on the number's prefix: what a send
// costs the server besides its transport.
func BenchmarkSendLearning(b *testing.B) {
	for _, tt := range []struct {
		name  string
		allow []string
	}{{"prefix", nil}, {"allowed_prefix", []string{"+86138"}}} {
		b.Run(tt.name, func(b *testing.B) {
			send := learningSender(b, tt.allow)
			b.ReportAllocs()
			for b.Loop() {
				send()
			}
		})
	}
}

// benchNumbers is how many numbers learningSender cycles over.
const benchNumbers = 1000

// learningSender returns a function that makes one accepted send with the
// learning rule on, the prefix +86138 allow-listed by allow or not. The
// numbers cycle over benchNumbers, all under +86138, and the store's clock
// moves a second at each read, well past a number's 60 s cooldown between
// two sends to it; the other limits and the rule's MinSends are out of
// reach, so every send is accepted.
func learningSender(tb testing.TB, allow []string) (send func()) {
	tb.Helper()
	svc := learningService(tb, allow)
	ctx := context.Background()
	req := sender.SendRequest{
		Caller:   sender.Caller{ClientID: "bench", Fingerprint: "fp", RemoteIP: "198.51.100.7"},
		Scenario: gen.ScenarioLogin, CaptchaToken: "tok",
	}
	mobiles := make([]string, benchNumbers)
	for i := range mobiles {
		mobiles[i] = fmt.Sprintf("+86138%08d", i)
	}
	i := 0
	return func() {
		req.Mobile = mobiles[i%len(mobiles)]
		i++
		if _, err := svc.Send(ctx, req); err != nil {
			tb.Fatal(err)
		}
	}
}

// learningService is the Service learningSender sends through: one
// application, a memory store whose clock moves a second at each read.
func learningService(tb testing.TB, allow []string) *sender.Service {
	tb.Helper()
	const many = 1 << 40
	p := sender.DefaultPumping
	p.Max, p.Allow = many, allow
	p.AutoBlock = sender.AutoBlock{Enabled: on(true), MinSends: many, MaxRatioOfNorm: 0.2, Window: time.Hour, BlockFor: time.Hour}.Over(sender.DefaultAutoBlock)
	return oneAppService(tb, "bench", time.Second, sender.Channel{
		Captcha: captcha.NewTestTokens([]string{"tok"}, nil),
		Limits: sender.Limits{NumberCooldown: time.Minute, NumberDaily: many, DevicePerHour: many,
			IPPerHour: many, AppDaily: many},
		Pumping: p,
	})
}

// oneAppService is a Service for one application (clientID, LOGIN_SMS
// only) on a memory store whose clock moves step at each read, with ch as
// its channel; ch's Provider and Templates default to the null provider
// and the default templates.
func oneAppService(tb testing.TB, clientID string, step time.Duration, ch sender.Channel) *sender.Service {
	tb.Helper()
	reg, err := apps.NewRegistry([]apps.App{{ClientID: clientID, Scenarios: []gen.Scenario{gen.ScenarioLogin}}})
	if err != nil {
		tb.Fatal(err)
	}
	var now atomic.Int64
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := memstore.New(memstore.Config{Now: func() time.Time { return start.Add(time.Duration(now.Add(1)) * step) }})
	tb.Cleanup(st.Close)
	h, err := otp.NewHasher([]byte("bench secret of thirty-two bytes!"))
	if err != nil {
		tb.Fatal(err)
	}
	if ch.Provider == nil {
		ch.Provider = sms.NewNull()
	}
	if ch.Templates == nil {
		ch.Templates = sms.DefaultTemplates()
	}
	svc, err := sender.New(sender.Deps{
		Apps: reg, Store: st, Hasher: h,
		Channels: map[string]sender.Channel{reg.Apps()[0].Scope(): ch},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}
