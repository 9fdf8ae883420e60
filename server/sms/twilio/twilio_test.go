package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gatewaytest"
	"github.com/smscode/smscode/server/sms/smstest"
	"github.com/smscode/smscode/server/sms/twilio"
)

const (
	accountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	authToken  = "authtoken0123456789abcdef01234567"
	apiKeySID  = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	apiSecret  = "apisecret0123456789abcdef01234567"
)

func newFake(g *smstest.Gateway) http.Handler {
	return &fake{g: g, accountSID: accountSID, authToken: authToken, apiKeySID: apiKeySID, apiSecret: apiSecret}
}

// newProvider returns a gatewaytest.NewFunc for the configuration cfg
// makes.
func newProvider(cfg func(base string) twilio.Config) gatewaytest.NewFunc {
	return func(srv *httptest.Server, log *slog.Logger) (sms.Provider, error) {
		return twilio.New(cfg(srv.URL), twilio.WithHTTPClient(srv.Client()), twilio.WithLogger(log))
	}
}

// tokenConfig authenticates with the account's auth token and sends from
// a number.
func tokenConfig(base string) twilio.Config {
	return twilio.Config{BaseURL: base, AccountSID: accountSID, AuthToken: authToken, From: "+15005550006"}
}

func TestConformance(t *testing.T) {
	t.Run("auth token", func(t *testing.T) {
		gatewaytest.Conformance(t, newFake, newProvider(tokenConfig), authToken, apiSecret)
	})
	t.Run("api key and messaging service", func(t *testing.T) {
		gatewaytest.Conformance(t, newFake, newProvider(func(base string) twilio.Config {
			return twilio.Config{BaseURL: base, AccountSID: accountSID, APIKeySID: apiKeySID, AuthToken: apiSecret,
				MessagingServiceSID: "MGcccccccccccccccccccccccccccccccc"}
		}), authToken, apiSecret)
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
			cfg := func(base string) twilio.Config {
				c := tc.cfg
				c.BaseURL = base
				return c
			}
			gatewaytest.CheckOperatorRefusal(t, newFake, newProvider(cfg), authToken, "wrong-token", apiSecret)
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
		body := ""
		if tc.code != 0 {
			body = `{"code":` + itoa(tc.code) + `,"message":"m","status":` + itoa(tc.status) + `}`
		}
		gatewaytest.CheckAnswer(t, newProvider(tokenConfig), gatewaytest.Answer{
			Name: fmt.Sprintf("%d/%d", tc.status, tc.code), Status: tc.status, Body: body,
			Permanent: tc.permanent, Operator: tc.operator,
		})
	}
}

func TestRefusalMasksNumber(t *testing.T) {
	g := smstest.NewGateway()
	g.Set(smstest.RefusePermanently)
	srv := g.Server(t, newFake(g))
	p, _ := twilio.New(tokenConfig(srv.URL), twilio.WithHTTPClient(srv.Client()))
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
