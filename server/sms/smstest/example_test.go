package smstest_test

import (
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/smstest"
)

// A provider's test serves its fake gateway behind the Gateway's switch
// and hands the suite a constructor. Here the sms-level Fake stands in for
// a real provider; a gateway provider would call g.Server(t, fake) and
// point its endpoint at the server's URL.
func ExampleRun() {
	_ = func(t *testing.T) {
		smstest.Run(t, smstest.Harness{
			New: func(t *testing.T, g *smstest.Gateway) sms.Provider {
				return smstest.NewFake("fake", g)
			},
			Secrets: []string{"the-api-secret"},
		})
	}
}
