package sender_test

import (
	"context"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/sender"
)

// recordingVerifier passes every token and keeps the Mobile it was given.
type recordingVerifier struct{ mobiles []string }

func (v *recordingVerifier) Verify(_ context.Context, req captcha.Request) error {
	v.mobiles = append(v.mobiles, req.Mobile)
	return nil
}

// unboundVerifier is a recordingVerifier that says its tokens are bound
// to no number.
type unboundVerifier struct{ recordingVerifier }

func (*unboundVerifier) Unbound() {}

// A verifier is given the send's binding (the same for one number, another
// for another, never the number itself) unless it is captcha.Unbound.
func TestCaptchaBinding(t *testing.T) {
	bound, unbound := &recordingVerifier{}, &unboundVerifier{}
	for _, tt := range []struct {
		name    string
		v       captcha.Verifier
		mobiles *[]string
	}{{"bound", bound, &bound.mobiles}, {"unbound", unbound, &unbound.recordingVerifier.mobiles}} {
		t.Run(tt.name, func(t *testing.T) {
			svc := serviceWithCaptcha(t, tt.v)
			for _, m := range []string{"+8613812345678", "+8613812345678", "+8613912345678"} {
				req := sender.SendRequest{Caller: sender.Caller{ClientID: "app", Fingerprint: "fp", RemoteIP: "198.51.100.7"},
					Scenario: gen.ScenarioLogin, Mobile: m, CaptchaToken: "tok"}
				if _, err := svc.Send(context.Background(), req); err != nil {
					t.Fatalf("send to %s: %v", m, err)
				}
			}
			got := *tt.mobiles
			if len(got) != 3 {
				t.Fatalf("verifier called %d times, want 3", len(got))
			}
			if tt.v == captcha.Verifier(unbound) {
				for i, m := range got {
					if m != "" {
						t.Errorf("send %d: an Unbound verifier was given Mobile %q", i, m)
					}
				}
				return
			}
			if got[0] == "" || got[0] != got[1] || got[0] == got[2] || got[2] == "" {
				t.Errorf("bindings %q: want one per number, the same for the same number", got)
			}
			for _, m := range got {
				if m == "+8613812345678" || m == "+8613912345678" {
					t.Errorf("the verifier was given the number %q itself", m)
				}
			}
		})
	}
}

// serviceWithCaptcha is a Service for one application ("app") whose
// captcha check is v, limits out of reach; the store's clock moves a
// minute at each read, past the cooldown between two sends to one number.
func serviceWithCaptcha(t *testing.T, v captcha.Verifier) *sender.Service {
	t.Helper()
	const many = 1 << 40
	return oneAppService(t, "app", time.Minute, sender.Channel{
		Captcha: v,
		Limits: sender.Limits{NumberCooldown: time.Second, NumberDaily: many, DevicePerHour: many,
			IPPerHour: many, AppDaily: many},
		Pumping: sender.Pumping{Disabled: true},
	})
}
