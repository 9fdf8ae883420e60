package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/internal/gateway"
)

func TestDoReadsAtMostMaxAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(strings.Repeat("x", 3*gateway.MaxAnswer)))
	}))
	defer srv.Close()
	b := gateway.NewBase("test")
	b.Client = srv.Client()
	req, err := b.NewFormRequest(context.Background(), srv.URL, "a=1")
	if err != nil {
		t.Fatal(err)
	}
	status, answer, err := b.Do(req, "POST /")
	if err != nil || status != http.StatusTeapot || len(answer) != gateway.MaxAnswer {
		t.Errorf("Do = %d, %d bytes, %v; want %d, %d bytes", status, len(answer), err, http.StatusTeapot, gateway.MaxAnswer)
	}
}

// TestDoErrorHidesURL: the query of a URL may hold a token, and transport
// errors are logged.
func TestDoErrorHidesURL(t *testing.T) {
	b := gateway.NewBase("test")
	req, err := b.NewRequest(context.Background(), "http://127.0.0.1:1/path?token=s3cret", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = b.Do(req, "POST 127.0.0.1:1")
	if err == nil || errors.Is(err, sms.ErrPermanent) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if !strings.HasPrefix(err.Error(), "test: POST 127.0.0.1:1: ") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %q", err)
	}
}

func TestRedact(t *testing.T) {
	msg := sms.Message{To: "+8613800138000", Code: "472913"}
	tests := []struct {
		in   string
		also []string
		want string
	}{
		{" code 472913 for +8613800138000 ", nil, "code *** for ***"},
		{"to 8613800138000", nil, "to ***"},
		{"to 13800138000", nil, "to 13800138000"},
		{"to 13800138000", []string{"13800138000"}, "to ***"},
		{"bad \xff utf-8", nil, "bad  utf-8"},
		{strings.Repeat("a", 300), nil, strings.Repeat("a", 200) + "..."},
	}
	for _, tc := range tests {
		if got := gateway.Redact(tc.in, msg, tc.also...); got != tc.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tc.in, tc.also, got, tc.want)
		}
	}
}

func TestCheckE164(t *testing.T) {
	b := gateway.NewBase("test")
	for _, to := range []string{"13800138000", "+0123456789", "+1234", ""} {
		if err := b.CheckE164(to); !errors.Is(err, sms.ErrPermanent) {
			t.Errorf("CheckE164(%q) = %v, want permanent", to, err)
		}
	}
	if err := b.CheckE164("+8613800138000"); err != nil {
		t.Errorf("CheckE164 = %v", err)
	}
}

func TestParseHTTPURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.com": true, "http://127.0.0.1:8080/x": true,
		"example.com": false, "ftp://example.com": false, "https://": false, "": false,
	} {
		if _, ok := gateway.ParseHTTPURL(s); ok != want {
			t.Errorf("ParseHTTPURL(%q) ok = %v, want %v", s, ok, want)
		}
	}
}

// CheckReceiptTokenConfig takes no token, or 24 to 128 of A-Z a-z 0-9 - _
// (unguessable, and nothing to escape in a URL's query); its error names
// the provider kind.
func TestCheckReceiptTokenConfig(t *testing.T) {
	for _, tt := range []struct {
		tok string
		ok  bool
	}{
		{"", true}, // no receipts
		{strings.Repeat("a", 24), true},
		{"q3JxN0wYp5Qm8dZr2TfK7v-_", true},
		{strings.Repeat("Z", 128), true},
		{strings.Repeat("a", 23), false},
		{strings.Repeat("a", 129), false},
		{"q3JxN0wYp5Qm8dZr2TfK7v+/", false}, // base64's + and / need escaping
		{"q3JxN0wYp5Qm8dZr2TfK7vHs&x=", false},
		{"q3JxN0wYp5Qm8dZr2TfK7vHs\n", false},
	} {
		err := gateway.CheckReceiptTokenConfig("huawei", tt.tok)
		if (err == nil) != tt.ok {
			t.Errorf("CheckReceiptTokenConfig(%q) = %v, want ok %v", tt.tok, err, tt.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "huawei: receipt_token ") {
			t.Errorf("error %q does not start with the kind and the setting", err)
		}
	}
}
