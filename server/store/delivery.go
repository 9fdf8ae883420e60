package store

import (
	"context"
	"time"
)

// DeliveryStatus is where a sent message is: accepted by its provider, then
// one terminal status from the provider's delivery receipt (or unknown when
// none came in time).
type DeliveryStatus string

// The delivery statuses. Accepted is the only one a delivery starts in and
// the only one that changes: accepted -> delivered | failed | expired |
// unknown, once.
const (
	DeliveryAccepted  DeliveryStatus = "accepted"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryExpired   DeliveryStatus = "expired"
	DeliveryUnknown   DeliveryStatus = "unknown"
)

// Terminal reports whether s is one of the statuses a delivery ends in.
func (s DeliveryStatus) Terminal() bool {
	switch s {
	case DeliveryDelivered, DeliveryFailed, DeliveryExpired, DeliveryUnknown:
		return true
	}
	return false
}

// MaxDeliveryField bounds each string field of a Delivery (a provider
// message id is at most 64 bytes at every gateway smscode speaks to), so
// that a record's size is bounded whatever a gateway answered.
const MaxDeliveryField = 128

// Delivery is what is kept of an accepted message until its delivery
// receipt comes: never the code, never the number (CallingCode is the
// parsed number's country calling code, such as "86", a label from a
// bounded set).
type Delivery struct {
	// Provider and MessageID identify it: the configured provider that
	// accepted the message and the id that provider gave it.
	Provider  string
	MessageID string
	// ClientID and Scenario say what the message was for.
	ClientID string
	Scenario string
	// CallingCode is the destination's country calling code, digits only.
	CallingCode string
	// SentAt is when the provider accepted it.
	SentAt time.Time
	// Status is DeliveryAccepted until settled; SettledAt is when it was.
	Status    DeliveryStatus
	SettledAt time.Time
}

// SettleOutcome says what SettleDelivery did.
type SettleOutcome int

const (
	// Settled: the delivery was accepted and now has the new status.
	Settled SettleOutcome = iota + 1
	// SettleUnknownID: no delivery is kept under this provider and id
	// (never sent, or its record expired).
	SettleUnknownID
	// SettleDuplicate: the delivery already has this status (a replay of
	// the same receipt); nothing changed.
	SettleDuplicate
	// SettleLate: the delivery already has another terminal status (a
	// receipt after an earlier one, or after it was counted unknown);
	// nothing changed.
	SettleLate
)

// ValidateDelivery rejects a Delivery that is a caller bug.
func ValidateDelivery(d Delivery, ttl, wait time.Duration) error {
	for name, v := range map[string]string{"Provider": d.Provider, "MessageID": d.MessageID,
		"ClientID": d.ClientID, "Scenario": d.Scenario, "CallingCode": d.CallingCode} {
		if len(v) > MaxDeliveryField {
			return invalid("delivery %s is %d bytes, over %d", name, len(v), MaxDeliveryField)
		}
	}
	switch {
	case d.Provider == "" || d.MessageID == "":
		return invalid("a delivery needs a provider and a message id")
	case d.Status != DeliveryAccepted:
		return invalid("a delivery is tracked as accepted, not %q", d.Status)
	case ttl < time.Millisecond || wait < time.Millisecond || wait > ttl:
		return invalid("delivery ttl %v and wait %v: want 1ms <= wait <= ttl", ttl, wait)
	}
	return nil
}

// ValidateSettle rejects a SettleDelivery call that is a caller bug.
func ValidateSettle(provider, messageID string, status DeliveryStatus) error {
	switch {
	case provider == "" || messageID == "" || len(provider) > MaxDeliveryField || len(messageID) > MaxDeliveryField:
		return invalid("settle needs a provider and a message id of at most %d bytes", MaxDeliveryField)
	case !status.Terminal():
		return invalid("settle to %q, which is not a terminal status", status)
	}
	return nil
}

// Deliveries keeps the accepted messages until their receipts come. Its
// records are keyed by provider and message id, in a namespace of the
// store's own (not a caller's key): a receipt names nothing else. Every
// method is atomic.
type Deliveries interface {
	// TrackDelivery records d (Status DeliveryAccepted) for ttl, replacing
	// any record of the same provider and id. It waits for a receipt until
	// d.SentAt+wait; ExpireDeliveries then settles it as unknown.
	TrackDelivery(ctx context.Context, d Delivery, ttl, wait time.Duration) error
	// SettleDelivery moves the delivery of provider and messageID from
	// accepted to status (a terminal one) at at, and returns the record as
	// it is now (for SettleDuplicate and SettleLate, as it was left; zero
	// for SettleUnknownID).
	SettleDelivery(ctx context.Context, provider, messageID string, status DeliveryStatus, at time.Time) (Delivery, SettleOutcome, error)
	// ExpireDeliveries settles as unknown, at now, at most max deliveries
	// still accepted whose wait ended before now, and returns them. Called
	// periodically; a delivery settled since it was due is skipped.
	ExpireDeliveries(ctx context.Context, now time.Time, max int) ([]Delivery, error)
}
