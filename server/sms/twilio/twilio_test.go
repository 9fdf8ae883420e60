package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/smstest"
	"github.com/smscode/smscode/server/sms/twilio"
)

const (
	accountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	authToken  = "authtoken0123456789abcdef01234567"
	apiKeySID  = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	apiSecret  = "apisecret0123456789abcdef01234567"
)

func newFake(g *smstest.Gateway) *fake {
	return &fake{g: g, accountSID: accountSID, authToken: authToken, apiKeySID: apiKeySID, apiSecret: apiSecret}
}

func TestConformance(t *testing.T) {
	harness := func(cfg func(base string) twilio.Config) smstest.Harness {
		var logs smstest.LogBuffer
		return smstest.Harness{
			New: func(t *testing.T, g *smstest.Gateway) sms.Provider {
				srv := g.Server(t, newFake(g))
				p, err := twilio.New(cfg(srv.URL), twilio.WithHTTPClient(srv.Client()), twilio.WithLogger(logs.Logger()))
				if err != nil {
					t.Fatal(err)
				}
				return p
			},
			Secrets: []string{authToken, apiSecret},
			Logs:    logs.String,
		}
	}
	t.Run("auth token", func(t *testing.T) {
		smstest.Run(t, harness(func(base string) twilio.Config {
			return twilio.Config{BaseURL: base, AccountSID: accountSID, AuthToken: authToken, From: "+15005550006"}
		}))
	})
	t.Run("api key and messaging service", func(t *testing.T) {
		smstest.Run(t, harness(func(base string) twilio.Config {
			return twilio.Config{BaseURL: base, AccountSID: accountSID, APIKeySID: apiKeySID, AuthToken: apiSecret,
				MessagingServiceSID: "MGcccccccccccccccccccccccccccccccc"}
		}))
	})
}

func TestFakeChecksAuth(t *testing.T) {
	tests := []struct {
		name string
		cfg  twilio.Config
	}{
		{"wrong token", twilio.Config{AccountSID: accountSID, AuthToken: "wrong-token", From: "+15005550006"}},
		{"key with account token", twilio.Config{AccountSID: accountSID, APIKeySID: apiKeySID, AuthToken: authToken, From: "+15005550006"}},
		{"other account", twilio.Config{AccountSID: "ACdddddddddddddddddddddddddddddddd", AuthToken: authToken, From: "+15005550006"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := smstest.NewGateway()
			srv := g.Server(t, newFake(g))
			var logs smstest.LogBuffer
			tc.cfg.BaseURL = srv.URL
			p, err := twilio.New(tc.cfg, twilio.WithHTTPClient(srv.Client()), twilio.WithLogger(logs.Logger()))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Send(context.Background(), smstest.Message())
			if err == nil || errors.Is(err, sms.ErrPermanent) {
				t.Fatalf("err = %v, want temporary", err)
			}
			if len(g.Accepted()) != 0 {
				t.Error("fake accepted")
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("not logged at error level: %q", logs.String())
			}
			for _, s := range []string{authToken, "wrong-token", apiSecret} {
				if strings.Contains(logs.String()+err.Error(), s) {
					t.Errorf("secret %q leaked", s)
				}
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	tests := []struct {
		status, code int
		permanent    bool
		operator     bool
	}{
		{400, 21211, true, false},
		{400, 21214, true, false},
		{400, 21610, true, false},
		{400, 21612, true, false},
		{400, 21614, true, false},
		{400, 21408, false, true},
		{400, 21606, false, true},
		{401, 20003, false, true},
		{404, 20404, false, true},
		{429, 20429, false, false},
		{500, 20500, false, false},
		{503, 0, false, false},
		{400, 21999, false, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d", tc.status, tc.code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				if tc.code != 0 {
					_, _ = io.WriteString(w, `{"code":`+itoa(tc.code)+`,"message":"m","status":`+itoa(tc.status)+`}`)
				}
			}))
			defer srv.Close()
			var logs smstest.LogBuffer
			p, _ := twilio.New(twilio.Config{BaseURL: srv.URL, AccountSID: accountSID, AuthToken: authToken, From: "+15005550006"},
				twilio.WithHTTPClient(srv.Client()), twilio.WithLogger(logs.Logger()))
			_, err := p.Send(context.Background(), smstest.Message())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if errors.Is(err, sms.ErrPermanent) != tc.permanent {
				t.Errorf("code %d: err = %v, permanent want %v", tc.code, err, tc.permanent)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tc.operator {
				t.Errorf("code %d: error-level log = %v, want %v", tc.code, got, tc.operator)
			}
		})
	}
}

func TestRefusalMasksNumber(t *testing.T) {
	g := smstest.NewGateway()
	g.Set(smstest.RefusePermanently)
	srv := g.Server(t, newFake(g))
	p, _ := twilio.New(twilio.Config{BaseURL: srv.URL, AccountSID: accountSID, AuthToken: authToken, From: "+15005550006"},
		twilio.WithHTTPClient(srv.Client()))
	msg := smstest.Message()
	_, err := p.Send(context.Background(), msg)
	if !errors.Is(err, sms.ErrPermanent) || strings.Contains(err.Error(), strings.TrimPrefix(msg.To, "+")) {
		t.Errorf("err = %v, want permanent without the number", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  twilio.Config
	}{
		{"no account", twilio.Config{AuthToken: authToken, From: "+15005550006"}},
		{"bad account", twilio.Config{AccountSID: "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", AuthToken: authToken, From: "+15005550006"}},
		{"bad key", twilio.Config{AccountSID: accountSID, APIKeySID: "AK1", AuthToken: authToken, From: "+15005550006"}},
		{"no token", twilio.Config{AccountSID: accountSID, From: "+15005550006"}},
		{"no sender", twilio.Config{AccountSID: accountSID, AuthToken: authToken}},
		{"bad base", twilio.Config{BaseURL: "api.twilio.com", AccountSID: accountSID, AuthToken: authToken, From: "+1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := twilio.New(tc.cfg); err == nil {
				t.Fatal("New succeeded")
			} else if strings.Contains(err.Error(), authToken) {
				t.Error("error shows the token")
			}
		})
	}
}
