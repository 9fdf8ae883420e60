package receipts_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/receipts"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms/aliyun"
	"github.com/smscode/smscode/server/sms/huawei"
	"github.com/smscode/smscode/server/sms/twilio"
)

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "0123456789abcdef0123456789abcdef"
	token       = "q3JxN0wYp5Qm8dZr2TfK7vHs"
)

// gateway is a fake send API: it records each request's form and answers
// with answer.
type gateway struct {
	mu     sync.Mutex
	forms  []url.Values
	answer string
	status int
}

func (g *gateway) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		g.mu.Lock()
		g.forms = append(g.forms, form)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(g.status)
		_, _ = io.WriteString(w, g.answer)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (g *gateway) last() url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.forms[len(g.forms)-1]
}

// Each cloud gateway through the real server: the send asks for status
// callbacks as the gateway documents (Twilio's StatusCallback, Huawei's
// statusCallback with the token; Alibaba Cloud's push URL is the
// console's), and the receipt, posted as the gateway posts it, settles the
// message and gets the answer the gateway expects.
func TestCloudGateways(t *testing.T) {
	tests := []struct {
		name     string
		provider func(base string) config.ProviderConfig
		answer   string
		status   int
		// callback checks the send's form and returns the URL to post to.
		callback func(t *testing.T, form url.Values, base string) string
		// receipt builds the gateway's receipt request.
		receipt  func(u string) *http.Request
		wantCode int
		wantBody string
	}{
		{
			name: "twilio",
			provider: func(base string) config.ProviderConfig {
				return config.ProviderConfig{Name: "twilio", Kind: "twilio", Twilio: &twilio.Config{
					BaseURL: base, AccountSID: twilioSID, AuthToken: twilioToken, From: "+15005550006"}}
			},
			answer: `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`, status: http.StatusCreated,
			callback: func(t *testing.T, form url.Values, base string) string {
				if got, want := form.Get("StatusCallback"), base+receipts.Path("twilio"); got != want {
					t.Fatalf("StatusCallback %q, want %q", got, want)
				}
				return form.Get("StatusCallback")
			},
			receipt: func(u string) *http.Request {
				form := url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "MessageStatus": {"delivered"},
					"AccountSid": {twilioSID}, "To": {"+8613800000001"}}
				req := formRequest(u, form)
				req.Header.Set("X-Twilio-Signature", twilioSign(twilioToken, u, form))
				return req
			},
			wantCode: http.StatusNoContent,
		},
		{
			name: "huawei",
			provider: func(base string) config.ProviderConfig {
				return config.ProviderConfig{Name: "huawei", Kind: "huawei", Huawei: &huawei.Config{
					Endpoint: base, AppKey: "key", AppSecret: "secret", Sender: "8824110605", TemplateID: "tpl", ReceiptToken: token}}
			},
			answer: `{"code":"000000","description":"Success","result":[{"originTo":"+8613800000001","smsMsgId":"1b7c9a4e-2f3d_8","status":"000000"}]}`, status: http.StatusOK,
			callback: func(t *testing.T, form url.Values, base string) string {
				if got, want := form.Get("statusCallback"), base+receipts.Path("huawei")+"?token="+token; got != want {
					t.Fatalf("statusCallback %q, want %q", got, want)
				}
				return form.Get("statusCallback")
			},
			receipt: func(u string) *http.Request {
				return formRequest(u, url.Values{"smsMsgId": {"1b7c9a4e-2f3d_8"}, "total": {"1"}, "sequence": {"1"},
					"status": {"DELIVRD"}, "source": {"2"}, "updateTime": {"2026-12-02T01:50:00Z"}, "orgCode": {"DELIVRD"}})
			},
			wantCode: http.StatusNoContent,
		},
		{
			name: "aliyun",
			provider: func(base string) config.ProviderConfig {
				return config.ProviderConfig{Name: "aliyun", Kind: "aliyun", Aliyun: &aliyun.Config{
					Endpoint: base, AccessKeyID: "id", AccessKeySecret: "secret", SignName: "smscode", TemplateCode: "SMS_1", ReceiptToken: token}}
			},
			answer: `{"Code":"OK","Message":"OK","BizId":"904512875183758^0","RequestId":"r"}`, status: http.StatusOK,
			callback: func(t *testing.T, form url.Values, base string) string {
				// Set in the Alibaba Cloud console, not per message.
				return base + receipts.Path("aliyun") + "?token=" + token
			},
			receipt: func(u string) *http.Request {
				body := `[{"phone_number":"1380000****","send_time":"2026-12-02 09:49:58","report_time":"2026-12-02 09:50:00","success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"1","biz_id":"904512875183758^0","out_id":"x"}]`
				req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				return req
			},
			wantCode: http.StatusOK, wantBody: `{"code":0,"msg":"接收成功"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gateway{answer: tt.answer, status: tt.status}
			base := g.start(t)
			env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
				c.Providers = append(c.Providers, tt.provider(base))
				for i := range c.Apps {
					c.Apps[i].Providers = []string{tt.name}
				}
			}))
			status, b := call(t, http.MethodPost, env.URL+"/api/v2/sdk/sms/send", seed.Headers(), mustJSON(map[string]string{
				"mobile": "13800000001", "type": string(gen.ScenarioLogin), "captcha_token": servertest.CaptchaToken}))
			if status != http.StatusOK {
				t.Fatalf("send: %d %s", status, b)
			}
			u := tt.callback(t, g.last(), env.URL)
			status, body := do(t, tt.receipt(u))
			if status != tt.wantCode || string(body) != tt.wantBody {
				t.Fatalf("receipt: %d %s, want %d %s", status, body, tt.wantCode, tt.wantBody)
			}
			// The same receipt without its token or signature is refused.
			bare := tt.receipt(strings.Split(u, "?")[0])
			bare.Header.Del("X-Twilio-Signature")
			if status, body := do(t, bare); status != http.StatusUnauthorized || !bytes.Contains(body, []byte("RECEIPT.0001")) {
				t.Errorf("unauthenticated receipt: %d %s, want 401 RECEIPT.0001", status, body)
			}
			m := scrape(t, env.URL)
			if got := m[`smscode_sms_deliveries_total{calling_code="86",provider="`+tt.name+`",status="delivered"}`]; got != "1" {
				t.Errorf("delivered = %q, want 1", got)
			}
			if got := m[`smscode_sms_receipts_total{outcome="bad_signature",provider="`+tt.name+`"}`]; got != "1" {
				t.Errorf("bad_signature = %q, want 1", got)
			}
		})
	}
}

func formRequest(u string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// twilioSign signs as Twilio documents: the URL, then name+value of each
// parameter in sorted order, HMAC-SHA1 under the auth token, base64.
func twilioSign(authToken, u string, form url.Values) string {
	var pairs []string
	for k, vs := range form {
		for _, v := range vs {
			pairs = append(pairs, k+v)
		}
	}
	sort.Strings(pairs)
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(u + strings.Join(pairs, "")))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
