package receipts_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms/webhook/webhooktest"
)

// Whatever a receipt sender posts (provider name, query, signature
// headers, body, signed or not), the endpoint answers 2xx or a documented
// error with the Error body: never a 5xx, never a panic.
func FuzzReceiptEndpoint(f *testing.F) {
	gw := webhooktest.New(f)
	env := servertest.New(f, servertest.WithWebhookGateway(gw, "gateway"))
	h := env.Runtime.Server.Handler()
	f.Add("gateway", "", true, []byte(`{"message_id":"gw-1","status":"delivered"}`))
	f.Add("gateway", "token=x", false, []byte(`{"message_id":"gw-1","status":"delivered"}`))
	f.Add("gateway", "", true, []byte(`{"message_id":"`+string(make([]byte, 70))+`","status":"failed"}`))
	f.Add("primary", "", true, []byte(`[]`))
	f.Add("a%2Fb", "", false, []byte("smsMsgId=1&status=DELIVRD"))
	f.Fuzz(func(t *testing.T, provider, query string, sign bool, body []byte) {
		u := env.URL + "/api/v2/sdk/sms/receipts/" + url.PathEscape(provider)
		if query != "" {
			u += "?" + url.QueryEscape(query)
		}
		var req *http.Request
		var err error
		if sign {
			req, err = webhooktest.SignedReceipt(gw.Secret, u, body, time.Now())
		} else {
			req, err = http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
		}
		if err != nil {
			return
		}
		// Served in process (no socket per input), headers included.
		in := httptest.NewRequest(http.MethodPost, req.URL.RequestURI(), bytes.NewReader(body))
		in.Header = req.Header
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, in)
		if rec.Code >= 500 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if rec.Code >= 300 {
			var e gen.Error
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.ErrorCode == "" {
				t.Fatalf("%d without the Error body: %s", rec.Code, rec.Body)
			}
		}
	})
}
