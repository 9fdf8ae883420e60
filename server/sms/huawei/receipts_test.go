package huawei_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/huawei"
)

const receiptToken = "q3JxN0wYp5Qm8dZr2TfK7vHs"

// report is a status report as Huawei Cloud SMS posts it ("接收状态报告"):
// form-encoded smsMsgId, total, sequence, status, source, updateTime
// (yyyy-MM-dd'T'HH:mm:ss'Z', urlencoded), orgCode, unsigned; token is the
// query of the statusCallback URL it was given.
func report(token, id, status string) sms.ReceiptRequest {
	form := url.Values{"smsMsgId": {id}, "total": {"1"}, "sequence": {"1"}, "status": {status},
		"source": {"2"}, "updateTime": {"2026-12-02T01:50:00Z"}, "orgCode": {status}}
	q := url.Values{}
	if token != "" {
		q.Set("token", token)
	}
	return sms.ReceiptRequest{Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Query: q, Body: []byte(form.Encode())}
}

func TestReadReceipt(t *testing.T) {
	cfg := config("https://smsapi.example.com:443")
	cfg.ReceiptToken = receiptToken
	p, err := huawei.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const id = "1b7c9a4e-2f3d-4c8b-9e6a-5d4c3b2a1f0e_8"
	twoTokens := report(receiptToken, id, "DELIVRD")
	twoTokens.Query.Add("token", receiptToken)
	tests := []struct {
		name string
		req  sms.ReceiptRequest
		want sms.Status
		err  error
	}{
		{"DELIVRD", report(receiptToken, id, "DELIVRD"), sms.StatusDelivered, nil},
		{"EXPIRED", report(receiptToken, id, "EXPIRED"), sms.StatusExpired, nil},
		{"UNDELIV", report(receiptToken, id, "UNDELIV"), sms.StatusFailed, nil},
		{"REJECTD", report(receiptToken, id, "REJECTD"), sms.StatusFailed, nil},
		{"E200018", report(receiptToken, id, "E200018"), sms.StatusFailed, nil},
		{"ACCEPTD (interim)", report(receiptToken, id, "ACCEPTD"), sms.StatusInterim, nil},
		{"UNKNOWN", report(receiptToken, id, "UNKNOWN"), sms.StatusUnknown, nil},
		{"no token", report("", id, "DELIVRD"), "", sms.ErrReceiptAuth},
		{"wrong token", report("q3JxN0wYp5Qm8dZr2TfK7vHt", id, "DELIVRD"), "", sms.ErrReceiptAuth},
		{"token twice", twoTokens, "", sms.ErrReceiptAuth},
		{"no smsMsgId", report(receiptToken, "", "DELIVRD"), "", sms.ErrReceiptMalformed},
		{"id over 64 bytes", report(receiptToken, strings.Repeat("a", 65), "DELIVRD"), "", sms.ErrReceiptMalformed},
		{"no status", report(receiptToken, id, ""), "", sms.ErrReceiptMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.ReadReceipt(tt.req)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err == nil && (len(got) != 1 || got[0].MessageID != id || got[0].Status != tt.want) {
				t.Errorf("reports %+v, want one %s", got, tt.want)
			}
		})
	}
	if !p.TakesReceipts() {
		t.Error("a provider with a receipt_token does not take receipts")
	}
	// Without a token every receipt is refused, whatever it carries.
	plain, _ := huawei.New(config("https://smsapi.example.com:443"))
	if _, err := plain.ReadReceipt(report("", id, "DELIVRD")); !errors.Is(err, sms.ErrReceiptAuth) || plain.TakesReceipts() {
		t.Errorf("a provider without receipt_token: %v, TakesReceipts %v", err, plain.TakesReceipts())
	}
	cfg.ReceiptToken = "short"
	if _, err := huawei.New(cfg); err == nil {
		t.Error("a 5-character receipt_token was accepted")
	}
}

// StatusCallback builds the statusCallback wire gives Huawei Cloud: the
// receipt endpoint with the documented ?token=, which ReadReceipt accepts
// when Huawei posts to it, and which another provider's token fails.
func TestStatusCallback(t *testing.T) {
	const endpoint = "https://smscode.example.com/v1/sms/receipts/hw"
	got := huawei.StatusCallback(endpoint, receiptToken)
	if want := endpoint + "?token=" + receiptToken; got != want {
		t.Fatalf("StatusCallback = %q, want %q", got, want)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	post := report("", "1b7c9a4e-2f3d-4c8b-9e6a-5d4c3b2a1f0e_8", "DELIVRD")
	post.Query = u.Query() // what the receipt endpoint sees of the URL Huawei posts to
	for _, tt := range []struct {
		token string
		err   error
	}{{receiptToken, nil}, {"Zq3JxN0wYp5Qm8dZr2TfK7vH", sms.ErrReceiptAuth}} {
		cfg := config("https://smsapi.example.com:443")
		cfg.ReceiptToken = tt.token
		p, err := huawei.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ReadReceipt(post); !errors.Is(err, tt.err) {
			t.Errorf("provider with token %q: ReadReceipt = %v, want %v", tt.token, err, tt.err)
		}
	}
}

func FuzzParseStatusReport(f *testing.F) {
	f.Add(string(report(receiptToken, "id_1", "DELIVRD").Body))
	f.Add("smsMsgId=x&status=")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		reports, err := huawei.ParseStatusReport(form)
		if err != nil {
			if !errors.Is(err, sms.ErrReceiptMalformed) {
				t.Fatalf("error %v does not wrap ErrReceiptMalformed", err)
			}
			return
		}
		for _, r := range reports {
			switch r.Status {
			case sms.StatusDelivered, sms.StatusFailed, sms.StatusExpired, sms.StatusUnknown, sms.StatusInterim:
			default:
				t.Fatalf("status %q outside the fixed set", r.Status)
			}
			if !sms.ValidMessageID(r.MessageID) {
				t.Fatalf("accepted id %q", r.MessageID)
			}
		}
	})
}
