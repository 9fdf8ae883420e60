package huawei_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/huawei"
	"github.com/smscode/smscode/server/sms/internal/gatewaytest"
	"github.com/smscode/smscode/server/sms/smstest"
)

const (
	appKey    = "c8RWg3ggEcyd4D3p94bf3Y7x1Ile"
	appSecret = "q4Ii87BhST9vcs8wvrzN80SfD7Al"
	sender    = "8824110605999"
)

func config(endpoint string) huawei.Config {
	return huawei.Config{
		Endpoint:       endpoint,
		AppKey:         appKey,
		AppSecret:      appSecret,
		Sender:         sender,
		TemplateID:     "8ff55eac1d0b478ab3c06c3c6a492300",
		TemplateParams: []string{huawei.ParamCode, huawei.ParamMinutes},
	}
}

func newFake(g *smstest.Gateway) http.Handler {
	return &fake{g: g, appKey: appKey, appSecret: appSecret, sender: sender}
}

// newProvider returns a gatewaytest.NewFunc for the configuration cfg
// makes, with opts.
func newProvider(cfg func(endpoint string) huawei.Config, opts ...huawei.Option) gatewaytest.NewFunc {
	return func(srv *httptest.Server, log *slog.Logger) (sms.Provider, error) {
		return huawei.New(cfg(srv.URL), append([]huawei.Option{huawei.WithHTTPClient(srv.Client()), huawei.WithLogger(log)}, opts...)...)
	}
}

func TestConformance(t *testing.T) {
	gatewaytest.Conformance(t, newFake, newProvider(config), appSecret)
}

// TestFakeChecksCredentials shows the fake refuses what Huawei refuses, and
// that those refusals are temporary operator errors, logged without the
// secret.
func TestFakeChecksCredentials(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(huawei.Config) huawei.Config
		opt  huawei.Option
	}{
		{"wrong secret", func(c huawei.Config) huawei.Config { c.AppSecret = "wrong-secret"; return c }, nil},
		{"wrong app key", func(c huawei.Config) huawei.Config { c.AppKey = "other"; return c }, nil},
		{"wrong sender", func(c huawei.Config) huawei.Config { c.Sender = "1069000"; return c }, nil},
		{"stale created", func(c huawei.Config) huawei.Config { return c },
			huawei.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []huawei.Option
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			cfg := func(endpoint string) huawei.Config { return tc.cfg(config(endpoint)) }
			gatewaytest.CheckOperatorRefusal(t, newFake, newProvider(cfg, opts...), "wrong-secret", appSecret)
		})
	}
}

func TestRequestFields(t *testing.T) {
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form = r.PostForm
		_, _ = io.WriteString(w, `{"code":"000000","description":"Success","result":[{"smsMsgId":"id-1","status":"000000"}]}`)
	}))
	defer srv.Close()
	cfg := config(srv.URL + "/")
	cfg.Signature = "华为云短信测试"
	cfg.StatusCallback = "https://example.com/report"
	p, err := huawei.New(cfg, huawei.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := p.Send(context.Background(), smstest.Message())
	if err != nil || rec.MessageID != "id-1" || rec.Provider != "huawei" {
		t.Fatalf("Send = %+v, %v", rec, err)
	}
	want := map[string]string{
		"from": sender, "to": "+8613800138000", "templateId": cfg.TemplateID,
		"templateParas": `["472913","5"]`, "signature": cfg.Signature, "statusCallback": cfg.StatusCallback,
	}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, form.Get(k), v)
		}
	}
}

func TestResultCodes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		operator  bool
	}{
		{"send failed for the number", 200, `{"code":"E000510","description":"fail","result":[{"status":"E200025"}]}`, true, false},
		{"accepted but number status failed", 200, `{"code":"000000","result":[{"smsMsgId":"x","status":"E200015"}]}`, true, false},
		{"auth failed", 401, `{"code":"E000101","description":"Authentication failed."}`, false, true},
		{"app key invalid", 401, `{"code":"E000102","description":"Invalid app_key."}`, false, true},
		{"user frozen", 403, `{"code":"E000112","description":"frozen"}`, false, true},
		{"parameter format", 400, `{"code":"E000503","description":"bad"}`, false, true},
		{"ip whitelist", 403, `{"code":"E000620","description":"The app client ip is not in ip white list."}`, false, true},
		{"system error", 500, `{"code":"E000000","description":"System exception."}`, false, true},
		{"unknown code", 500, `{"code":"E999999","description":"?"}`, false, false},
		{"no json", 502, `<html>bad gateway</html>`, false, false},
		{"success without id", 200, `{"code":"000000","result":[]}`, false, false},
	}
	for _, tc := range tests {
		gatewaytest.CheckAnswer(t, newProvider(config), gatewaytest.Answer{
			Name: tc.name, Status: tc.status, Body: tc.body, Permanent: tc.permanent, Operator: tc.operator,
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := config("https://smsapi.cn-north-4.myhuaweicloud.com:443")
	tests := []struct {
		name string
		edit func(*huawei.Config)
	}{
		{"no endpoint", func(c *huawei.Config) { c.Endpoint = "" }},
		{"no app key", func(c *huawei.Config) { c.AppKey = "" }},
		{"no secret", func(c *huawei.Config) { c.AppSecret = "" }},
		{"no sender", func(c *huawei.Config) { c.Sender = "" }},
		{"no template", func(c *huawei.Config) { c.TemplateID = "" }},
		{"unknown param", func(c *huawei.Config) { c.TemplateParams = []string{"name"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			if _, err := huawei.New(c); err == nil {
				t.Fatal("New succeeded")
			} else if strings.Contains(err.Error(), appSecret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
	if _, err := huawei.New(good); err != nil {
		t.Errorf("New(good) = %v", err)
	}
}

func TestNonE164IsPermanent(t *testing.T) {
	p, _ := huawei.New(config("https://127.0.0.1:1"))
	msg := smstest.Message()
	msg.To = "13800138000"
	if _, err := p.Send(context.Background(), msg); !errors.Is(err, sms.ErrPermanent) {
		t.Errorf("err = %v, want permanent", err)
	}
}

// TestPasswordDigestForm pins the digest's encoding: Base64 of the hex
// SHA-256, the form of the API reference's example header.
func TestPasswordDigestForm(t *testing.T) {
	got := huawei.PasswordDigest("ac1c911c4792492687f8f6b2264a491e", "2018-05-26T00:35:30Z", "secret")
	if got != digest("ac1c911c4792492687f8f6b2264a491e", "2018-05-26T00:35:30Z", "secret") {
		t.Errorf("PasswordDigest = %q", got)
	}
	// Computed with sha256sum and base64 from the shell.
	const want = "NDY0MmJiMzg3ODIyNDI1NjlkMzRmOGY2MjBmNjljMjk0MTU2NjMwMDUxN2YxYWYxMzAzNGZmZmJmYjY3OWM3Yg=="
	if got != want {
		t.Errorf("PasswordDigest = %q, want %q", got, want)
	}
}
