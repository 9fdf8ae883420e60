// Package gatewaytest holds the tests that every HTTP SMS provider (webhook,
// huawei, aliyun, twilio) runs against its gateway, so that the checks are
// written, and tightened, once: the conformance suite wired to a fake
// gateway, the classification of canned answers, and the handling of a
// refusal that the operator must fix.
package gatewaytest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/smstest"
)

// NewFunc makes the provider under test: it sends to srv through
// srv.Client() and logs to log.
type NewFunc func(srv *httptest.Server, log *slog.Logger) (sms.Provider, error)

// FakeFunc makes a provider's fake gateway, driven by g.
type FakeFunc func(g *smstest.Gateway) http.Handler

// Conformance runs smstest.Run on the providers newProvider makes against
// the fake; none of secrets may appear in an error or in the logs.
func Conformance(t *testing.T, fake FakeFunc, newProvider NewFunc, secrets ...string) {
	t.Helper()
	var logs smstest.LogBuffer
	smstest.Run(t, smstest.Harness{
		New: func(t *testing.T, g *smstest.Gateway) sms.Provider {
			return mustNew(t, newProvider, g.Server(t, fake(g)), &logs)
		},
		Secrets: secrets,
		Logs:    logs.String,
	})
}

// Answer is a canned gateway answer and what a provider must make of it.
type Answer struct {
	// Name names the subtest.
	Name string
	// Status and Body are the answer; an empty Body sends none.
	Status int
	Body   string
	// Permanent says the error wraps sms.ErrPermanent.
	Permanent bool
	// Operator says the refusal is logged at error level.
	Operator bool
}

// CheckAnswer serves a, in a subtest named a.Name, and checks that a send
// fails, wraps sms.ErrPermanent exactly when a is Permanent, and logs at
// error level exactly when it is Operator.
func CheckAnswer(t *testing.T, newProvider NewFunc, a Answer) {
	t.Helper()
	t.Run(a.Name, func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(a.Status)
			_, _ = io.WriteString(w, a.Body)
		}))
		defer srv.Close()
		var logs smstest.LogBuffer
		p := mustNew(t, newProvider, srv, &logs)
		_, err := p.Send(context.Background(), smstest.Message())
		if err == nil {
			t.Fatal("Send succeeded")
		}
		if errors.Is(err, sms.ErrPermanent) != a.Permanent {
			t.Errorf("err = %v, permanent want %v", err, a.Permanent)
		}
		if got := strings.Contains(logs.String(), "level=ERROR"); got != a.Operator {
			t.Errorf("logged at error level = %v, want %v", got, a.Operator)
		}
	})
}

// CheckOperatorRefusal sends smstest.Message through the provider
// newProvider makes against the fake, which must refuse it as
// misconfigured (wrong credentials, sender, template), and checks that the
// error is temporary (another provider may be configured correctly),
// that the fake accepted nothing, that the refusal is logged at error
// level, and that neither the logs nor the error hold the code or any of
// secrets.
func CheckOperatorRefusal(t *testing.T, fake FakeFunc, newProvider NewFunc, secrets ...string) {
	t.Helper()
	g := smstest.NewGateway()
	var logs smstest.LogBuffer
	p := mustNew(t, newProvider, g.Server(t, fake(g)), &logs)
	msg := smstest.Message()
	_, err := p.Send(context.Background(), msg)
	if err == nil || errors.Is(err, sms.ErrPermanent) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if len(g.Accepted()) != 0 {
		t.Error("the fake accepted a message")
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("operator error not logged at error level: %q", logs.String())
	}
	all := logs.String() + err.Error()
	for _, s := range append([]string{msg.Code}, secrets...) {
		if strings.Contains(all, s) {
			t.Errorf("%q in logs or error: %s", s, all)
		}
	}
}

func mustNew(t *testing.T, newProvider NewFunc, srv *httptest.Server, logs *smstest.LogBuffer) sms.Provider {
	t.Helper()
	p, err := newProvider(srv, logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return p
}
