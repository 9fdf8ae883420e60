// Package sms turns a one-time code into a text message and hands it to an
// SMS provider. It declares the Provider interface that every gateway
// implements, the message templates, and the development providers: log
// (writes the message, code included, to the log), null (drops it, for
// benchmarks) and memory (records it, for tests). The real gateways live in
// the subpackages; failover chains them.
package sms

import (
	"context"
	"errors"
)

// Message is one SMS to deliver.
type Message struct {
	// ID is unique per send and is the same on every provider a failover
	// tries, so that gateways and webhooks can deduplicate.
	ID string
	// To is the destination in E.164 form (+8612345678901).
	To string
	// Text is the rendered message, signature included.
	Text string
	// Code and TTLMinutes are the template parameters, for gateways that
	// render registered templates themselves (Huawei Cloud, Alibaba Cloud).
	Code       string
	TTLMinutes int
	// Scenario (a gen.Scenario value), Lang ("zh", "en"), ClientID and
	// TenantID say what the message is for.
	Scenario string
	Lang     string
	ClientID string
	TenantID string
}

// Receipt is a provider's acceptance of a message.
type Receipt struct {
	// Provider is the name of the provider that accepted the message.
	Provider string
	// MessageID is the provider's id for the message, logged with every
	// accepted send.
	MessageID string
}

// Provider delivers messages to an SMS gateway. Send returns only once the
// gateway has accepted or refused the message. A refusal that retrying
// elsewhere cannot fix (invalid number, blocked destination, rejected
// template) wraps ErrPermanent; every other error is temporary, and a
// failover may try the next provider.
type Provider interface {
	Name() string
	Send(ctx context.Context, msg Message) (Receipt, error)
}

// ErrPermanent marks a provider's refusal that no other provider or retry
// would change.
var ErrPermanent = errors.New("sms: permanent refusal")
