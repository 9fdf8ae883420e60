package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/kit"
)

// The team's server, over real HTTP: the seed's request (OneAccess's
// documented example) is answered 200, bad ones with the spec's documented
// Error bodies, and the operations the team does not offer 501 SYS.0003.
func TestStubServer(t *testing.T) {
	e, err := kit.NewEcho(api{log: slog.New(slog.DiscardHandler)}, kit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e)
	defer ts.Close()

	without := func(name string) http.Header {
		h := seed.Headers()
		h.Del(name)
		return h
	}
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		body       string
		wantStatus int
		wantCode   string // "" for a 2xx
	}{
		{"seed request", http.MethodPost, "/api/v2/sdk/sms/send", seed.Headers(), seed.Body, 200, ""},
		{"bad mobile", http.MethodPost, "/api/v2/sdk/sms/send", seed.Headers(), strings.Replace(seed.Body, seed.Mobile, "123", 1), 400, "USER.0038"},
		{"no client id", http.MethodPost, "/api/v2/sdk/sms/send", without("X-client-id"), seed.Body, 400, "APP.0002"},
		{"not JSON", http.MethodPost, "/api/v2/sdk/sms/send", seed.Headers(), "{", 400, "REQ.0001"},
		{"unknown path", http.MethodGet, "/api/v2/sdk/nothing", seed.Headers(), "", 404, "REQ.0005"},
		{"verify not offered", http.MethodPost, "/api/v2/sdk/sms/verify", seed.Headers(), `{"mobile":"12345678901","type":"BIND_MOBILE_SMS","verify_code":"123456"}`, 501, "SYS.0003"},
		{"country codes not offered", http.MethodGet, "/api/v2/sdk/country-codes", seed.Headers(), "", 501, "SYS.0003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantCode == "" {
				if string(body) != `"OK"`+"\n" && string(body) != `"OK"` {
					t.Errorf("body %q, want \"OK\"", body)
				}
				return
			}
			var e struct {
				ErrorCode string `json:"error_code"`
				ErrorMsg  string `json:"error_msg"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.ErrorCode != tt.wantCode || e.ErrorMsg == "" {
				t.Errorf("body %s, want error_code %s with a message", body, tt.wantCode)
			}
		})
	}
}
