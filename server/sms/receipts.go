package sms

import (
	"errors"
	"net/http"
	"net/url"
)

// Status is what a delivery receipt says of a message: one of the final
// statuses below, or StatusInterim for a gateway status that is not final
// (Twilio's queued or sent, Huawei's ACCEPTD), which changes nothing.
type Status string

// The statuses a receipt maps to. Every gateway's status strings are
// mapped to this fixed set, so that nothing a receipt sender writes
// becomes a label or a stored value.
const (
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
	StatusExpired   Status = "expired"
	StatusUnknown   Status = "unknown"
	StatusInterim   Status = "interim"
)

// MaxMessageID bounds a message id read from a receipt: the gateways'
// ids are at most 64 bytes (Twilio's 34, Huawei's up to 50, Aliyun's
// about 20); a longer one is a malformed receipt.
const MaxMessageID = 64

// StatusReport is one message's status in a receipt.
type StatusReport struct {
	// MessageID is the provider's id for the message (sms.Receipt's).
	MessageID string
	Status    Status
}

// ReceiptRequest is a delivery receipt as the gateway posted it. Body is
// whole (the server bounds its size); the signature checks need the raw
// bytes.
type ReceiptRequest struct {
	Header http.Header
	Query  url.Values
	Body   []byte
}

// Errors of ReceiptReader.ReadReceipt.
var (
	// ErrReceiptAuth: the receipt is unsigned, wrongly signed, or does not
	// carry the provider's receipt token (401 RECEIPT.0001).
	ErrReceiptAuth = errors.New("sms: receipt not authenticated")
	// ErrReceiptMalformed: the receipt is not a status report of this
	// provider's gateway (400 RECEIPT.0002).
	ErrReceiptMalformed = errors.New("sms: malformed receipt")
)

// ReceiptReader is implemented by the providers whose gateway posts
// delivery receipts to smscode (when configured with a receipt URL).
type ReceiptReader interface {
	// TakesReceipts reports whether the provider is configured for
	// receipts (a callback URL, a receipt token): only then are its
	// messages tracked and its receipts taken.
	TakesReceipts() bool
	// ReadReceipt authenticates a receipt the way its gateway signs or
	// identifies it, then parses it. Its errors wrap ErrReceiptAuth or
	// ErrReceiptMalformed.
	ReadReceipt(r ReceiptRequest) ([]StatusReport, error)
	// ReceiptAck is the 2xx answer the gateway expects, so that it stops
	// retrying: its Content-Type and body (empty: 204 No Content).
	ReceiptAck() (contentType string, body []byte)
}

// ValidMessageID reports whether id can be a provider's message id: 1 to
// MaxMessageID printable ASCII bytes.
func ValidMessageID(id string) bool {
	if id == "" || len(id) > MaxMessageID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
