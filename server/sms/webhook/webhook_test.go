package webhook_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gatewaytest"
	"github.com/smscode/smscode/server/sms/smstest"
	"github.com/smscode/smscode/server/sms/webhook"
)

var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func TestConformance(t *testing.T) {
	gatewaytest.Conformance(t,
		func(g *smstest.Gateway) http.Handler { return &fake{g: g, secret: testSecret} },
		func(srv *httptest.Server, log *slog.Logger) (sms.Provider, error) {
			return webhook.New(webhook.Config{URL: srv.URL + "/sms", Secret: testSecret},
				webhook.WithHTTPClient(srv.Client()), webhook.WithLogger(log))
		},
		testSecret, strings.TrimPrefix(testSecret, "whsec_"))
}

func TestStatuses(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		wantErr   bool
		permanent bool
		wantID    string
	}{
		{200, `{"message_id":"m-1"}`, false, false, "m-1"},
		{202, `{"id":"m-2"}`, false, false, "m-2"},
		{204, ``, false, false, smstest.Message().ID},
		{200, `not json`, false, false, smstest.Message().ID},
		{302, ``, true, false, ""},
		{400, `{"error":"bad number"}`, true, true, ""},
		{422, ``, true, true, ""},
		{401, ``, true, false, ""},
		{403, ``, true, false, ""},
		{404, ``, true, false, ""},
		{410, ``, true, false, ""},
		{408, ``, true, false, ""},
		{429, ``, true, false, ""},
		{500, ``, true, false, ""},
		{502, ``, true, false, ""},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			p, err := webhook.New(webhook.Config{URL: srv.URL, Secret: testSecret}, webhook.WithHTTPClient(srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := p.Send(context.Background(), smstest.Message())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && errors.Is(err, sms.ErrPermanent) != tc.permanent {
				t.Errorf("err = %v, permanent = %v, want %v", err, !tc.permanent, tc.permanent)
			}
			if rec.MessageID != tc.wantID {
				t.Errorf("MessageID = %q, want %q", rec.MessageID, tc.wantID)
			}
		})
	}
}

func TestRefusalDoesNotLeakNumberOrCode(t *testing.T) {
	msg := smstest.Message()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"` + msg.To + ` rejected code ` + msg.Code + `"}`))
	}))
	defer srv.Close()
	p, _ := webhook.New(webhook.Config{URL: srv.URL, Secret: testSecret}, webhook.WithHTTPClient(srv.Client()))
	_, err := p.Send(context.Background(), msg)
	if err == nil || strings.Contains(err.Error(), msg.Code) || strings.Contains(err.Error(), msg.To) {
		t.Fatalf("err = %v, want an error without the code and number", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  webhook.Config
	}{
		{"no url", webhook.Config{Secret: testSecret}},
		{"relative url", webhook.Config{URL: "/sms", Secret: testSecret}},
		{"ftp url", webhook.Config{URL: "ftp://example.com", Secret: testSecret}},
		{"no secret", webhook.Config{URL: "https://example.com"}},
		{"no prefix", webhook.Config{URL: "https://example.com", Secret: strings.TrimPrefix(testSecret, "whsec_")}},
		{"short secret", webhook.Config{URL: "https://example.com", Secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))}},
		{"not base64", webhook.Config{URL: "https://example.com", Secret: "whsec_!!!"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.New(tc.cfg)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestSendHeaders(t *testing.T) {
	now := time.Unix(1674087231, 0)
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	}))
	defer srv.Close()
	p, _ := webhook.New(webhook.Config{URL: srv.URL, Secret: testSecret},
		webhook.WithHTTPClient(srv.Client()), webhook.WithClock(func() time.Time { return now }))
	if _, err := p.Send(context.Background(), smstest.Message()); err != nil {
		t.Fatal(err)
	}
	if got.Get(webhook.HeaderID) != smstest.Message().ID {
		t.Errorf("webhook-id = %q", got.Get(webhook.HeaderID))
	}
	if got.Get(webhook.HeaderTimestamp) != "1674087231" {
		t.Errorf("webhook-timestamp = %q", got.Get(webhook.HeaderTimestamp))
	}
	if !strings.HasPrefix(got.Get(webhook.HeaderSignature), "v1,") {
		t.Errorf("webhook-signature = %q", got.Get(webhook.HeaderSignature))
	}
}

func TestSendRejectsUnusableID(t *testing.T) {
	p, _ := webhook.New(webhook.Config{URL: "http://127.0.0.1:1", Secret: testSecret})
	for _, id := range []string{"", "a.b", "a b"} {
		msg := smstest.Message()
		msg.ID = id
		if _, err := p.Send(context.Background(), msg); err == nil {
			t.Errorf("id %q: Send succeeded", id)
		}
	}
}
