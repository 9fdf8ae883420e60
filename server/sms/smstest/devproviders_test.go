package smstest_test

import (
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/smstest"
)

// The development providers of package sms run the suite as Local
// providers (they live in server/sms, whose tests belong to another
// change; they run here).
func TestDevelopmentProvidersConform(t *testing.T) {
	fromMessages := func(ms []sms.Message) []smstest.Received {
		var out []smstest.Received
		for _, m := range ms {
			out = append(out, smstest.Received{To: m.To, Code: m.Code, Text: m.Text, Ref: m.ID})
		}
		return out
	}
	t.Run("memory", func(t *testing.T) {
		smstest.Run(t, smstest.Harness{
			Local: true,
			New:   func(t *testing.T, _ *smstest.Gateway) sms.Provider { return sms.NewMemory() },
			Received: func(p sms.Provider) []smstest.Received {
				return fromMessages(p.(*sms.Memory).Messages())
			},
		})
	})
	t.Run("log", func(t *testing.T) {
		var logs smstest.LogBuffer
		smstest.Run(t, smstest.Harness{
			Local: true,
			New:   func(t *testing.T, _ *smstest.Gateway) sms.Provider { return sms.NewLog(logs.Logger(), 10) },
			Received: func(p sms.Provider) []smstest.Received {
				if m, ok := p.(*sms.Log).Last(smstest.Message().To); ok {
					return fromMessages([]sms.Message{m})
				}
				return nil
			},
		})
	})
	t.Run("null", func(t *testing.T) {
		smstest.Run(t, smstest.Harness{
			Local: true,
			New:   func(t *testing.T, _ *smstest.Gateway) sms.Provider { return sms.NewNull() },
		})
	})
}
