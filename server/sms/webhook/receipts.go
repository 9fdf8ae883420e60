package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/smscode/smscode/server/sms"
)

var _ sms.ReceiptReader = (*Provider)(nil)

// ReceiptPayload is the JSON body a gateway posts to a message's
// receipt_url: the id it answered the send with (message_id, or smscode's
// id when it answered none) and the message's status, one of delivered,
// failed, expired, unknown (final) or sent (on its way; changes nothing).
// The POST carries webhook-id (unique per receipt), webhook-timestamp and
// webhook-signature, signed with the provider's secret exactly as smscode
// signs its sends (Sign); timestamps more than DefaultTolerance away are
// refused.
type ReceiptPayload struct {
	MessageID string `json:"message_id"`
	Status    string `json:"status"`
	// ErrorCode is the gateway's reason for a failure; optional, not
	// stored (it would be a value the gateway chooses).
	ErrorCode string `json:"error_code,omitempty"`
}

// ReadReceipt implements sms.ReceiptReader.
func (p *Provider) ReadReceipt(r sms.ReceiptRequest) ([]sms.StatusReport, error) {
	if err := Verify(p.secret, r.Header, r.Body, DefaultTolerance, p.gw.Now()); err != nil {
		return nil, fmt.Errorf("%s: receipt: %v: %w", p.gw.Name, err, sms.ErrReceiptAuth)
	}
	return ParseReceipt(r.Body)
}

// ParseReceipt reads a ReceiptPayload (already authenticated). Members
// other than its own are refused, as a typo in a status would be.
func ParseReceipt(body []byte) ([]sms.StatusReport, error) {
	var rp ReceiptPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rp); err != nil || dec.More() {
		return nil, fmt.Errorf("webhook: receipt is not a receipt object: %w", sms.ErrReceiptMalformed)
	}
	st, ok := receiptStatuses[rp.Status]
	if !sms.ValidMessageID(rp.MessageID) || !ok {
		return nil, fmt.Errorf("webhook: receipt without a valid message_id and status: %w", sms.ErrReceiptMalformed)
	}
	return []sms.StatusReport{{MessageID: rp.MessageID, Status: st}}, nil
}

var receiptStatuses = map[string]sms.Status{
	"delivered": sms.StatusDelivered, "failed": sms.StatusFailed, "expired": sms.StatusExpired,
	"unknown": sms.StatusUnknown, "sent": sms.StatusInterim,
}

// ReceiptAck implements sms.ReceiptReader: any 2xx.
func (p *Provider) ReceiptAck() (string, []byte) { return "", nil }

// TakesReceipts implements sms.ReceiptReader.
func (p *Provider) TakesReceipts() bool { return p.receiptURL != "" }
