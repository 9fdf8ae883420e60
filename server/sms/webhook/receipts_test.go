package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/webhook"
)

// signed is a receipt as the webhook provider's documentation asks a
// gateway to send it: Standard Webhooks headers over the raw body.
func signed(t *testing.T, secret, id string, ts time.Time, body string) sms.ReceiptRequest {
	t.Helper()
	sig, err := webhook.Sign(secret, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return sms.ReceiptRequest{Header: h, Body: []byte(body)}
}

func TestReadReceipt(t *testing.T) {
	now := time.Unix(1796175000, 0)
	p, err := webhook.New(webhook.Config{URL: "https://gw.example.com/sms", Secret: testSecret,
		ReceiptURL: "https://sms.example.com/api/v2/sdk/sms/receipts/webhook"}, webhook.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	other := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ok := `{"message_id":"team-42","status":"delivered"}`
	tests := []struct {
		name string
		req  sms.ReceiptRequest
		want sms.Status
		err  error
	}{
		{"delivered", signed(t, testSecret, "r1", now, ok), sms.StatusDelivered, nil},
		{"failed with error_code", signed(t, testSecret, "r2", now, `{"message_id":"team-42","status":"failed","error_code":"30003"}`), sms.StatusFailed, nil},
		{"expired", signed(t, testSecret, "r3", now, `{"message_id":"team-42","status":"expired"}`), sms.StatusExpired, nil},
		{"sent (interim)", signed(t, testSecret, "r4", now, `{"message_id":"team-42","status":"sent"}`), sms.StatusInterim, nil},
		{"4 minutes old", signed(t, testSecret, "r5", now.Add(-4*time.Minute), ok), sms.StatusDelivered, nil},
		{"other secret", signed(t, other, "r6", now, ok), "", sms.ErrReceiptAuth},
		{"6 minutes old", signed(t, testSecret, "r7", now.Add(-6*time.Minute), ok), "", sms.ErrReceiptAuth},
		{"unsigned", sms.ReceiptRequest{Header: http.Header{}, Body: []byte(ok)}, "", sms.ErrReceiptAuth},
		{"unknown status", signed(t, testSecret, "r8", now, `{"message_id":"team-42","status":"DELIVRD"}`), "", sms.ErrReceiptMalformed},
		{"unknown member", signed(t, testSecret, "r9", now, `{"message_id":"team-42","status":"delivered","to":"+86"}`), "", sms.ErrReceiptMalformed},
		{"id over 64 bytes", signed(t, testSecret, "r10", now, `{"message_id":"`+strings.Repeat("x", 65)+`","status":"delivered"}`), "", sms.ErrReceiptMalformed},
		{"two objects", signed(t, testSecret, "r11", now, ok+ok), "", sms.ErrReceiptMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.ReadReceipt(tt.req)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err == nil && (len(got) != 1 || got[0].MessageID != "team-42" || got[0].Status != tt.want) {
				t.Errorf("reports %+v, want one %s", got, tt.want)
			}
		})
	}
	// The body signed is the body read: one changed byte fails.
	tampered := signed(t, testSecret, "r12", now, ok)
	tampered.Body = []byte(strings.Replace(ok, "delivered", "failed\u0020\u0020", 1))
	if _, err := p.ReadReceipt(tampered); !errors.Is(err, sms.ErrReceiptAuth) {
		t.Errorf("tampered body: %v", err)
	}
}

func FuzzParseReceipt(f *testing.F) {
	f.Add(`{"message_id":"team-42","status":"delivered"}`)
	f.Add(`{"message_id":"","status":"x"}`)
	f.Fuzz(func(t *testing.T, body string) {
		reports, err := webhook.ParseReceipt([]byte(body))
		if err != nil {
			if !errors.Is(err, sms.ErrReceiptMalformed) {
				t.Fatalf("error %v does not wrap ErrReceiptMalformed", err)
			}
			return
		}
		if len(reports) != 1 || !sms.ValidMessageID(reports[0].MessageID) {
			t.Fatalf("accepted %+v", reports)
		}
	})
}
