package smstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/smscode/smscode/server/sms"
)

var _ sms.Provider = (*Fake)(nil)

// Fake is an sms.Provider without a network: it obeys its Gateway's
// behaviour switch, for tests of code that uses providers (failover, the
// send pipeline).
type Fake struct {
	name string
	g    *Gateway
}

// NewFake returns a Fake named name, driven and recorded by g.
func NewFake(name string, g *Gateway) *Fake { return &Fake{name: name, g: g} }

// Name implements sms.Provider.
func (f *Fake) Name() string { return f.name }

// Send implements sms.Provider: Accept records the message; RefusePermanently
// returns an error wrapping sms.ErrPermanent; ServerError and Reset return a
// temporary error; Hang waits for ctx to end and returns its error.
func (f *Fake) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return sms.Receipt{}, fmt.Errorf("%s: %w", f.name, err)
	}
	switch b := f.g.attempt(); b {
	case Accept:
		id := f.g.Accept(Received{To: msg.To, Code: msg.Code, Text: msg.Text, Ref: msg.ID})
		return sms.Receipt{Provider: f.name, MessageID: id}, nil
	case RefusePermanently:
		return sms.Receipt{}, fmt.Errorf("%s: number refused: %w", f.name, sms.ErrPermanent)
	case Hang:
		select {
		case <-ctx.Done():
			return sms.Receipt{}, fmt.Errorf("%s: %w", f.name, ctx.Err())
		case <-f.g.done:
			return sms.Receipt{}, fmt.Errorf("%s: gateway stopped", f.name)
		}
	default:
		return sms.Receipt{}, fmt.Errorf("%s: %s", f.name, b)
	}
}

// Message is the message the conformance suite sends: a mainland China
// number, a six-digit code and a five-minute lifetime.
func Message() sms.Message {
	return sms.Message{
		ID:         "msg_01HZX3TESTSUITE",
		To:         "+8613800138000",
		Text:       "【smscode】Your verification code is 472913. It expires in 5 minutes.",
		Code:       "472913",
		TTLMinutes: 5,
		Scenario:   "login",
		Lang:       "en",
		ClientID:   "app-1",
		TenantID:   "tenant-1",
	}
}

// LogBuffer collects log output for tests that check what was logged. It is
// safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a debug-level text logger that writes to b.
func (b *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// isTemporary reports whether err is a temporary failure.
func isTemporary(err error) bool { return err != nil && !errors.Is(err, sms.ErrPermanent) }
