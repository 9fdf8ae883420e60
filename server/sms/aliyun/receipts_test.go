package aliyun_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/aliyun"
)

const receiptToken = "q3JxN0wYp5Qm8dZr2TfK7vHs"

// docPush is the example of Alibaba Cloud's SmsReport documentation (the
// HTTP batch push: a JSON array; "单次请求可能包含多个状态报告"), with a
// second, failed report.
const docPush = `[
  {
    "phone_number" : "1381111****",
    "send_time" : "2017-01-01 00:00:00",
    "report_time" : "2017-01-01 00:00:00",
    "success" : true,
    "err_code" : "DELIVERED",
    "err_msg" : "用户接收成功",
    "sms_size" : "1",
    "biz_id" : "12345^0",
    "out_id" : "67890"
  },
  {"phone_number":"1381111****","success":false,"err_code":"MK:0001","biz_id":"12346^0","out_id":"67891"}
]`

func push(token, body string) sms.ReceiptRequest {
	q := url.Values{}
	if token != "" {
		q.Set("token", token)
	}
	return sms.ReceiptRequest{Header: http.Header{"Content-Type": {"application/json"}}, Query: q, Body: []byte(body)}
}

func TestReadReceipt(t *testing.T) {
	cfg := config("https://dysmsapi.example.com")
	cfg.ReceiptToken = receiptToken
	p, err := aliyun.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.ReadReceipt(push(receiptToken, docPush))
	if err != nil {
		t.Fatal(err)
	}
	want := []sms.StatusReport{{MessageID: "12345^0", Status: sms.StatusDelivered}, {MessageID: "12346^0", Status: sms.StatusFailed}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reports %+v, want %+v", got, want)
	}
	// The answer SmsReport's documentation asks for.
	if ct, body := p.ReceiptAck(); ct != "application/json" || string(body) != `{"code":0,"msg":"接收成功"}` {
		t.Errorf("ack %s %s", ct, body)
	}
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"biz_id":"1","success":true},`, aliyun.MaxReports+1), ",") + "]"
	refused := []struct {
		name string
		req  sms.ReceiptRequest
		err  error
	}{
		{"no token", push("", docPush), sms.ErrReceiptAuth},
		{"wrong token", push(strings.ToUpper(receiptToken), docPush), sms.ErrReceiptAuth},
		{"an object, not an array", push(receiptToken, `{"biz_id":"1","success":true}`), sms.ErrReceiptMalformed},
		{"empty array", push(receiptToken, `[]`), sms.ErrReceiptMalformed},
		{"no biz_id", push(receiptToken, `[{"success":true}]`), sms.ErrReceiptMalformed},
		{"no success", push(receiptToken, `[{"biz_id":"1"}]`), sms.ErrReceiptMalformed},
		{"too many reports", push(receiptToken, many), sms.ErrReceiptMalformed},
		{"not JSON", push(receiptToken, `phone_number=1`), sms.ErrReceiptMalformed},
	}
	for _, tt := range refused {
		if _, err := p.ReadReceipt(tt.req); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
		}
	}
	cfg.ReceiptToken = "short"
	if _, err := aliyun.New(cfg); err == nil || !strings.HasPrefix(err.Error(), "aliyun: receipt_token ") {
		t.Errorf("a 5-character receipt_token: New = %v, want refused", err)
	}
}

func FuzzParseReports(f *testing.F) {
	f.Add(docPush)
	f.Add(`[{"biz_id":"","success":null}]`)
	f.Fuzz(func(t *testing.T, body string) {
		reports, err := aliyun.ParseReports([]byte(body))
		if err != nil {
			if !errors.Is(err, sms.ErrReceiptMalformed) {
				t.Fatalf("error %v does not wrap ErrReceiptMalformed", err)
			}
			return
		}
		if len(reports) == 0 || len(reports) > aliyun.MaxReports {
			t.Fatalf("%d reports", len(reports))
		}
		for _, r := range reports {
			if !sms.ValidMessageID(r.MessageID) || (r.Status != sms.StatusDelivered && r.Status != sms.StatusFailed) {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
