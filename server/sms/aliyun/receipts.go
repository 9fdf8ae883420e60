package aliyun

import (
	"encoding/json"
	"fmt"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gateway"
)

var _ sms.ReceiptReader = (*Provider)(nil)

// MaxReports bounds the status reports of one push.
const MaxReports = 500

// Report is one status report of the SmsReport push (a JSON array of
// them): phone_number, send_time, report_time, success, err_code, err_msg,
// sms_size, biz_id (the BizId of SendSms) and out_id (the OutId smscode
// sent, its own message id).
type Report struct {
	PhoneNumber string `json:"phone_number"`
	SendTime    string `json:"send_time"`
	ReportTime  string `json:"report_time"`
	Success     *bool  `json:"success"`
	ErrCode     string `json:"err_code"`
	ErrMsg      string `json:"err_msg"`
	SMSSize     string `json:"sms_size"`
	BizID       string `json:"biz_id"`
	OutID       string `json:"out_id"`
}

// ReadReceipt implements sms.ReceiptReader: the console's HTTP batch push
// of SmsReport, unsigned, so authenticated by the URL's token.
func (p *Provider) ReadReceipt(r sms.ReceiptRequest) ([]sms.StatusReport, error) {
	if err := gateway.CheckReceiptToken(p.cfg.ReceiptToken, r.Query); err != nil {
		return nil, fmt.Errorf("%s: receipt: %w", p.cfg.Name, err)
	}
	return ParseReports(r.Body)
}

// ParseReports reads a push: every report must have a biz_id and success.
func ParseReports(body []byte) ([]sms.StatusReport, error) {
	var reports []Report
	if err := json.Unmarshal(body, &reports); err != nil || len(reports) == 0 || len(reports) > MaxReports {
		return nil, fmt.Errorf("aliyun: receipt is not a JSON array of 1 to %d reports: %w", MaxReports, sms.ErrReceiptMalformed)
	}
	out := make([]sms.StatusReport, 0, len(reports))
	for _, rep := range reports {
		if !sms.ValidMessageID(rep.BizID) || rep.Success == nil {
			return nil, fmt.Errorf("aliyun: report without a valid biz_id and success: %w", sms.ErrReceiptMalformed)
		}
		st := sms.StatusFailed
		if *rep.Success {
			st = sms.StatusDelivered
		}
		out = append(out, sms.StatusReport{MessageID: rep.BizID, Status: st})
	}
	return out, nil
}

// ackBody is the answer SmsReport expects ({"code": 0} means received;
// anything else makes Alibaba Cloud push again).
var ackBody = []byte(`{"code":0,"msg":"接收成功"}`)

// ReceiptAck implements sms.ReceiptReader.
func (p *Provider) ReceiptAck() (string, []byte) { return "application/json", ackBody }

// TakesReceipts implements sms.ReceiptReader.
func (p *Provider) TakesReceipts() bool { return p.cfg.ReceiptToken != "" }
