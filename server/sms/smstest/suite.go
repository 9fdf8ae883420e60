package smstest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms"
)

// Harness wires one provider to the conformance suite.
type Harness struct {
	// New returns a provider whose gateway is a fake served by g.Server (or
	// driven by g directly, for providers without a network). It is called
	// once per case, with a fresh Gateway.
	New func(t *testing.T, g *Gateway) sms.Provider
	// Secrets are the credentials New configures; none may appear in an
	// error or in Logs.
	Secrets []string
	// Logs, if set, returns what the providers made by New have logged.
	Logs func() string
	// Local marks a provider without a gateway (the development log, null
	// and memory providers): it always accepts, so only the accepted,
	// canceled and no_secrets cases run, and New may ignore its Gateway.
	Local bool
	// Received, for a Local provider, returns what p (made by New) holds
	// of the messages it accepted; nil when it keeps nothing (null), in
	// which case only the receipt is checked.
	Received func(p sms.Provider) []Received
}

// HangTimeout is the deadline the suite gives a send to a hanging gateway;
// the provider must return within HangTimeout plus HangGrace.
const (
	HangTimeout = 150 * time.Millisecond
	HangGrace   = 2 * time.Second
)

// Run is the conformance suite of sms.Provider. Every provider runs it:
//
//   - accepted: the Receipt names the provider and has a message id; the
//     gateway accepted exactly one message, to the right number, with the
//     right code;
//   - permanent: a documented permanent refusal wraps sms.ErrPermanent and
//     nothing is accepted;
//   - server_error: a 503 is a temporary error;
//   - hang: a gateway that never answers makes Send return promptly after
//     the context's deadline, with a temporary error;
//   - reset: a reset connection is a temporary error;
//   - canceled: a Send with a context already done fails with a temporary
//     error and delivers nothing;
//   - no_secrets: no error (nor the logs) contains a credential or the code.
//
// Local providers (Harness.Local) run accepted, canceled and no_secrets.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("smstest: Harness.New is nil")
	}
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	t.Run("accepted", func(t *testing.T) {
		g := NewGateway()
		p := h.New(t, g)
		if p.Name() == "" {
			t.Error("Name() is empty")
		}
		msg := Message()
		rec, err := send(t, p, msg, 5*time.Second)
		collect(err)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if rec.Provider != p.Name() {
			t.Errorf("Receipt.Provider = %q, want %q", rec.Provider, p.Name())
		}
		if rec.MessageID == "" {
			t.Error("Receipt.MessageID is empty")
		}
		if h.Local {
			if h.Received != nil {
				got := h.Received(p)
				if len(got) != 1 {
					t.Fatalf("provider holds %d messages, want 1", len(got))
				}
				checkReceived(t, got[0], msg)
			}
			return
		}
		got := g.Accepted()
		if len(got) != 1 {
			t.Fatalf("gateway accepted %d messages, want 1", len(got))
		}
		checkReceived(t, got[0], msg)
		if rec.MessageID != got[0].ID && rec.MessageID != msg.ID {
			t.Errorf("Receipt.MessageID = %q, want the gateway's id %q", rec.MessageID, got[0].ID)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		g := NewGateway()
		p := h.New(t, g)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Send(ctx, Message())
		collect(err)
		if !isTemporary(err) {
			t.Errorf("Send with a done context = %v, want a temporary error", err)
		}
		if n := len(g.Accepted()); n != 0 {
			t.Errorf("gateway accepted %d messages, want 0", n)
		}
		if h.Local && h.Received != nil {
			if n := len(h.Received(p)); n != 0 {
				t.Errorf("provider holds %d messages, want 0", n)
			}
		}
	})

	failing := []struct {
		name      string
		b         Behaviour
		permanent bool
	}{
		{"permanent", RefusePermanently, true},
		{"server_error", ServerError, false},
		{"hang", Hang, false},
		{"reset", Reset, false},
	}
	if h.Local {
		failing = nil
	}
	for _, tc := range failing {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGateway()
			g.Set(tc.b)
			p := h.New(t, g)
			timeout := 5 * time.Second
			if tc.b == Hang {
				timeout = HangTimeout
			}
			start := time.Now()
			_, err := send(t, p, Message(), timeout)
			elapsed := time.Since(start)
			collect(err)
			switch {
			case err == nil:
				t.Fatal("Send succeeded, want an error")
			case tc.permanent && !errors.Is(err, sms.ErrPermanent):
				t.Errorf("error %q does not wrap sms.ErrPermanent", err)
			case !tc.permanent && !isTemporary(err):
				t.Errorf("error %q wraps sms.ErrPermanent, want a temporary error", err)
			}
			if tc.b == Hang && elapsed > HangTimeout+HangGrace {
				t.Errorf("Send returned after %v, want about %v", elapsed, HangTimeout)
			}
			if n := len(g.Accepted()); n != 0 {
				t.Errorf("gateway accepted %d messages, want 0", n)
			}
			if g.Attempts() == 0 {
				t.Error("the gateway was not called")
			}
		})
	}

	t.Run("no_secrets", func(t *testing.T) {
		if len(errs) == 0 {
			t.Skip("no errors collected")
		}
		secrets := append([]string{Message().Code}, h.Secrets...)
		for _, err := range errs {
			for _, s := range secrets {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret or the code", err)
				}
			}
		}
		if h.Logs == nil {
			return
		}
		logs := h.Logs()
		for _, s := range h.Secrets {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("logs contain the secret %q", s)
			}
		}
	})
}

func send(t *testing.T, p sms.Provider, msg sms.Message, timeout time.Duration) (sms.Receipt, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return p.Send(ctx, msg)
}

func checkReceived(t *testing.T, got Received, msg sms.Message) {
	t.Helper()
	if got.To != msg.To {
		t.Errorf("gateway got destination %q, want %q", got.To, msg.To)
	}
	switch {
	case got.Code != "":
		if got.Code != msg.Code {
			t.Errorf("gateway got code %q, want %q", got.Code, msg.Code)
		}
	case !strings.Contains(got.Text, msg.Code):
		t.Errorf("gateway got text %q, which lacks the code %q", got.Text, msg.Code)
	}
	if got.Ref != "" && got.Ref != msg.ID {
		t.Errorf("gateway got reference %q, want the message id %q", got.Ref, msg.ID)
	}
}
