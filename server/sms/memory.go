package sms

import (
	"context"
	"strconv"
	"sync"
)

// Memory records every message it accepts, for tests of the whole pipeline:
// a test reads the code a user would have received (Last), and injects
// gateway failures (SetFailure). It is safe for concurrent use.
type Memory struct {
	name string

	mu       sync.Mutex
	messages []Message
	attempts int64
	seq      int64 // receipt ids; not reset, so ids never repeat
	failure  func(Message) error
}

var _ Provider = (*Memory)(nil)

// NewMemory returns a Memory provider named "memory".
func NewMemory() *Memory { return NewNamedMemory("memory") }

// NewNamedMemory returns a Memory provider with the given name, so that a
// test of failover can tell two of them apart.
func NewNamedMemory(name string) *Memory { return &Memory{name: name} }

// Name returns the provider's name.
func (m *Memory) Name() string { return m.name }

// SetFailure makes Send ask f about each message first: when f returns an
// error, Send returns it (wrap ErrPermanent for a permanent refusal) and
// does not record the message. A nil f accepts every message again.
func (m *Memory) SetFailure(f func(Message) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failure = f
}

// Send records msg, unless ctx is done or the failure function refuses it.
func (m *Memory) Send(ctx context.Context, msg Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	m.mu.Lock()
	m.attempts++
	fail := m.failure
	m.mu.Unlock()

	// f runs unlocked, so that it may call the provider's own methods.
	if fail != nil {
		if err := fail(msg); err != nil {
			return Receipt{}, err
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages = append(m.messages, msg)
	m.seq++
	return Receipt{Provider: m.name, MessageID: m.name + "-" + strconv.FormatInt(m.seq, 10)}, nil
}

// Messages returns a copy of the accepted messages, oldest first.
func (m *Memory) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.messages...)
}

// Count is how many messages have been accepted.
func (m *Memory) Count() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.messages))
}

// Attempts is how many times Send was called with a live context, refused
// messages included.
func (m *Memory) Attempts() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.attempts
}

// Last returns the latest accepted message sent to the E.164 number to.
func (m *Memory) Last(to string) (Message, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.messages) - 1; i >= 0; i-- {
		if m.messages[i].To == to {
			return m.messages[i], true
		}
	}
	return Message{}, false
}

// Reset forgets every message and attempt; the failure function stays.
func (m *Memory) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages, m.attempts = nil, 0
}
