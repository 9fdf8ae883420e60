package huawei

import (
	"fmt"
	"net/url"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gateway"
)

var _ sms.ReceiptReader = (*Provider)(nil)

// ReadReceipt implements sms.ReceiptReader: Huawei Cloud SMS's status
// report ("接收状态报告"), a form-encoded POST (smsMsgId, total, sequence,
// status, source, updateTime, orgCode, extend, to) to the statusCallback
// of the send. Huawei does not sign it ("免鉴权"), so the URL's token is
// what authenticates it.
func (p *Provider) ReadReceipt(r sms.ReceiptRequest) ([]sms.StatusReport, error) {
	if err := gateway.CheckReceiptToken(p.cfg.ReceiptToken, r.Query); err != nil {
		return nil, fmt.Errorf("%s: receipt: %w", p.cfg.Name, err)
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, fmt.Errorf("%s: receipt: not a form: %w", p.cfg.Name, sms.ErrReceiptMalformed)
	}
	return ParseStatusReport(form)
}

// StatusCallback is the statusCallback that has Huawei Cloud post its
// status reports to smscode's receipt endpoint receiptURL (a URL without
// a query): receiptURL with token in the query parameter that ReadReceipt
// checks. Huawei does not sign its reports, so the token is what
// authenticates them.
func StatusCallback(receiptURL, token string) string {
	return receiptURL + "?" + url.Values{gateway.ReceiptTokenParam: {token}}.Encode()
}

// ParseStatusReport reads one status report.
func ParseStatusReport(form url.Values) ([]sms.StatusReport, error) {
	id, status := form.Get("smsMsgId"), form.Get("status")
	if !sms.ValidMessageID(id) || status == "" || len(status) > 16 {
		return nil, fmt.Errorf("huawei: receipt without a valid smsMsgId and status: %w", sms.ErrReceiptMalformed)
	}
	return []sms.StatusReport{{MessageID: id, Status: reportStatus(status)}}, nil
}

// reportStatus maps the status enumeration of Huawei's documentation:
// DELIVRD (received), EXPIRED, ACCEPTD (accepted, not final), UNKNOWN; any
// other value (UNDELIV, REJECTD, DELETED, MATCH, the E... and operator
// codes) is a failure.
func reportStatus(s string) sms.Status {
	switch s {
	case "DELIVRD":
		return sms.StatusDelivered
	case "EXPIRED":
		return sms.StatusExpired
	case "ACCEPTD":
		return sms.StatusInterim
	case "UNKNOWN":
		return sms.StatusUnknown
	}
	return sms.StatusFailed
}

// ReceiptAck implements sms.ReceiptReader: any 2xx.
func (p *Provider) ReceiptAck() (string, []byte) { return "", nil }

// TakesReceipts implements sms.ReceiptReader.
func (p *Provider) TakesReceipts() bool { return p.cfg.ReceiptToken != "" }
