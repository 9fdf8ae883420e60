package sms

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync"

	"github.com/smscode/smscode/server/phone"
)

// Log is the development provider: it delivers nothing and writes each
// message, code included, to the log, with the number masked. It keeps the
// last messages in memory so that a development page can show the code
// (Last). Never use it in production: codes in logs are readable by anyone
// who reads the logs.
type Log struct {
	log *slog.Logger

	mu     sync.Mutex
	recent []Message // a ring of the last cap(recent) messages
	next   int       // where the next message goes in recent
}

var _ Provider = (*Log)(nil)

// NewLog returns a Log provider that writes to log (slog.Default() when
// nil) and keeps the last keep messages (none when keep is not positive).
func NewLog(log *slog.Logger, keep int) *Log {
	if log == nil {
		log = slog.Default()
	}
	return &Log{log: log, recent: make([]Message, 0, max(keep, 0))}
}

// Name returns "log".
func (l *Log) Name() string { return "log" }

// Send logs msg at warning level, so that a production deployment left on
// this provider stands out, and returns a receipt with a random id.
func (l *Log) Send(ctx context.Context, msg Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	id := "log-" + rand.Text()
	l.log.LogAttrs(ctx, slog.LevelWarn, "sms: development log provider, not delivered (codes in logs are for development only)",
		slog.String("provider_message_id", id),
		slog.String("message_id", msg.ID),
		slog.String("to", phone.Mask(msg.To)),
		slog.String("scenario", msg.Scenario),
		slog.String("lang", msg.Lang),
		slog.String("client_id", msg.ClientID),
		slog.String("tenant_id", msg.TenantID),
		slog.String("text", msg.Text),
	)
	l.remember(msg)
	return Receipt{Provider: l.Name(), MessageID: id}, nil
}

func (l *Log) remember(msg Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cap(l.recent) == 0 {
		return
	}
	if len(l.recent) < cap(l.recent) {
		l.recent = append(l.recent, msg)
	} else {
		l.recent[l.next] = msg
	}
	l.next = (l.next + 1) % cap(l.recent)
}

// Last returns the latest kept message sent to the E.164 number to.
func (l *Log) Last(to string) (Message, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.recent)
	for i := 1; i <= n; i++ {
		if m := l.recent[(l.next-i+n)%n]; m.To == to {
			return m, true
		}
	}
	return Message{}, false
}
