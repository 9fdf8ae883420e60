package twilio_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/twilio"
)

// The test vector of Twilio's helper libraries (twilio-go's
// client/request_validator_test.go): auth token 12345, this URL and these
// POST parameters sign to RSOYDt4T1cUTdK1PDd93/VVr8B8=, and Twilio's
// signature with the default port added is accepted too.
func TestSignatureVector(t *testing.T) {
	const token, rawURL, want = "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	params := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}}
	if got := twilio.Signature(token, rawURL, params); got != want {
		t.Fatalf("Signature = %q, want %q", got, want)
	}
	for _, u := range []string{rawURL, "https://mycompany.com:443/myapp.php?foo=1&bar=2"} {
		if !twilio.ValidSignature(token, u, params, want) {
			t.Errorf("ValidSignature(%s) = false", u)
		}
	}
	// The vectors of the same file for other spellings: http with port 1234.
	if !twilio.ValidSignature(token, "http://mycompany.com:1234/myapp.php?foo=1&bar=2", params, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=") {
		t.Error("http with port 1234: the library's vector does not validate")
	}
	for _, bad := range []string{"", "WRONG SIGNATURE", strings.ToLower(want)} {
		if twilio.ValidSignature(token, rawURL, params, bad) {
			t.Errorf("ValidSignature accepts %q", bad)
		}
	}
}

const callbackURL = "https://sms.example.com/api/v2/sdk/sms/receipts/twilio"

func provider(t *testing.T, callback string) *twilio.Provider {
	t.Helper()
	p, err := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006", StatusCallback: callback})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeCallback is what Twilio posts, signed as its "Webhooks security"
// page describes, written here independently of the provider's code: the
// URL, then each parameter's name and value concatenated, sorted, HMAC-SHA1
// under the auth token, base64.
func fakeCallback(token, rawURL string, form url.Values) sms.ReceiptRequest {
	var pairs []string
	for k, vs := range form {
		for _, v := range vs {
			pairs = append(pairs, k+v)
		}
	}
	sort.Strings(pairs)
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(rawURL + strings.Join(pairs, "")))
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	h.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return sms.ReceiptRequest{Header: h, Body: []byte(form.Encode())}
}

func callback(sid, status string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {accountSID}, "From": {"+15005550006"}, "To": {"+8613800138000"}, "ApiVersion": {"2010-04-01"}}
}

func TestReadReceipt(t *testing.T) {
	const sid = "SM0123456789abcdef0123456789abcdef"
	p := provider(t, callbackURL)
	failed := callback(sid, "undelivered")
	failed.Set("ErrorCode", "30003")
	tampered := fakeCallback(authToken, callbackURL, callback(sid, "failed"))
	tampered.Body = []byte(callback(sid, "delivered").Encode())
	unsigned := fakeCallback(authToken, callbackURL, callback(sid, "delivered"))
	unsigned.Header.Del("X-Twilio-Signature")
	tests := []struct {
		name string
		req  sms.ReceiptRequest
		want sms.Status
		err  error
	}{
		{"delivered", fakeCallback(authToken, callbackURL, callback(sid, "delivered")), sms.StatusDelivered, nil},
		{"undelivered with ErrorCode", fakeCallback(authToken, callbackURL, failed), sms.StatusFailed, nil},
		{"failed", fakeCallback(authToken, callbackURL, callback(sid, "failed")), sms.StatusFailed, nil},
		{"sent (interim)", fakeCallback(authToken, callbackURL, callback(sid, "sent")), sms.StatusInterim, nil},
		{"default port", fakeCallback(authToken, "https://sms.example.com:443/api/v2/sdk/sms/receipts/twilio", callback(sid, "delivered")), sms.StatusDelivered, nil},
		{"other auth token", fakeCallback("0123456789abcdef0123456789abcdef", callbackURL, callback(sid, "delivered")), "", sms.ErrReceiptAuth},
		{"other URL", fakeCallback(authToken, "https://evil.example.com/x", callback(sid, "delivered")), "", sms.ErrReceiptAuth},
		{"tampered status", tampered, "", sms.ErrReceiptAuth},
		{"unsigned", unsigned, "", sms.ErrReceiptAuth},
		{"no MessageSid", fakeCallback(authToken, callbackURL, url.Values{"MessageStatus": {"delivered"}}), "", sms.ErrReceiptMalformed},
		{"unknown status", fakeCallback(authToken, callbackURL, callback(sid, "DELIVRD")), "", sms.ErrReceiptMalformed},
		{"sid over 64 bytes", fakeCallback(authToken, callbackURL, callback(strings.Repeat("S", 65), "delivered")), "", sms.ErrReceiptMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.ReadReceipt(tt.req)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err == nil && (len(got) != 1 || got[0].MessageID != sid || got[0].Status != tt.want) {
				t.Errorf("reports %+v, want one %s for %s", got, tt.want, sid)
			}
		})
	}
	// Without a status_callback the provider takes no receipts at all.
	plain := provider(t, "")
	if plain.TakesReceipts() || !p.TakesReceipts() {
		t.Errorf("TakesReceipts: %v without a callback, %v with one", plain.TakesReceipts(), p.TakesReceipts())
	}
	if _, err := plain.ReadReceipt(fakeCallback(authToken, callbackURL, callback(sid, "delivered"))); !errors.Is(err, sms.ErrReceiptAuth) {
		t.Errorf("a provider without status_callback read a receipt: %v", err)
	}
}

// The spellings of a configured StatusCallback, worked out when the
// provider is made, are those ValidSignature accepts for the URL: with or
// without the default port, whichever was configured; a configured port
// that is not the default, as it is or dropped (twilio-go's validator
// removes any port), but never another port or scheme.
func TestReadReceiptCallbackSpellings(t *testing.T) {
	const sid = "SM0123456789abcdef0123456789abcdef"
	const path = "/api/v2/sdk/sms/receipts/twilio"
	tests := []struct {
		configured, signed string
		ok                 bool
	}{
		{"https://sms.example.com" + path, "https://sms.example.com" + path, true},
		{"https://sms.example.com" + path, "https://sms.example.com:443" + path, true},
		{"https://sms.example.com:443" + path, "https://sms.example.com" + path, true},
		{"https://sms.example.com:443" + path, "https://sms.example.com:443" + path, true},
		{"http://sms.example.com" + path, "http://sms.example.com:80" + path, true},
		{"http://sms.example.com:8080" + path, "http://sms.example.com:8080" + path, true},
		{"http://sms.example.com:8080" + path, "http://sms.example.com" + path, true},
		{"http://sms.example.com:8080" + path, "http://sms.example.com:80" + path, false},
		{"https://sms.example.com" + path, "https://sms.example.com:8443" + path, false},
		{"https://sms.example.com" + path, "http://sms.example.com" + path, false},
		{"https://sms.example.com" + path + "?a=1", "https://sms.example.com:443" + path + "?a=1", true},
	}
	for _, tt := range tests {
		p := provider(t, tt.configured)
		_, err := p.ReadReceipt(fakeCallback(authToken, tt.signed, callback(sid, "delivered")))
		if (err == nil) != tt.ok {
			t.Errorf("configured %s, signed over %s: %v, want ok %v", tt.configured, tt.signed, err, tt.ok)
		}
		if ok := twilio.ValidSignature(authToken, tt.configured, callback(sid, "delivered"),
			fakeCallback(authToken, tt.signed, callback(sid, "delivered")).Header.Get("X-Twilio-Signature")); ok != tt.ok {
			t.Errorf("ValidSignature(%s) over %s = %v, want %v", tt.configured, tt.signed, ok, tt.ok)
		}
	}
}

// BenchmarkReadReceipt is one signed status callback read and checked.
func BenchmarkReadReceipt(b *testing.B) {
	p, err := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006", StatusCallback: callbackURL})
	if err != nil {
		b.Fatal(err)
	}
	req := fakeCallback(authToken, callbackURL, callback("SM0123456789abcdef0123456789abcdef", "delivered"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ReadReceipt(req); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseStatusCallback(f *testing.F) {
	f.Add(callback("SM0123456789abcdef0123456789abcdef", "delivered").Encode())
	f.Add("MessageSid=&MessageStatus=failed")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		reports, err := twilio.ParseStatusCallback(form)
		if err != nil {
			if !errors.Is(err, sms.ErrReceiptMalformed) {
				t.Fatalf("error %v does not wrap ErrReceiptMalformed", err)
			}
			return
		}
		for _, r := range reports {
			if !sms.ValidMessageID(r.MessageID) || !knownStatus(r.Status) {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

func knownStatus(s sms.Status) bool {
	switch s {
	case sms.StatusDelivered, sms.StatusFailed, sms.StatusExpired, sms.StatusUnknown, sms.StatusInterim:
		return true
	}
	return false
}

// With a status_callback, each message asks Twilio for its status
// callbacks (the StatusCallback parameter); without, it does not.
func TestSendAsksForStatusCallback(t *testing.T) {
	for _, cb := range []string{callbackURL, ""} {
		var got url.Values
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			got = r.PostForm
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"sid":"SM0123456789abcdef0123456789abcdef"}`))
		}))
		p, err := twilio.New(twilio.Config{BaseURL: srv.URL, AccountSID: accountSID, AuthToken: authToken, From: "+15005550006", StatusCallback: cb})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Send(t.Context(), sms.Message{ID: "m1", To: "+8613800138000", Text: "code 123456", Code: "123456"}); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if v, ok := got["StatusCallback"]; (cb != "") != ok || (ok && v[0] != cb) {
			t.Errorf("status_callback %q: the request's StatusCallback is %q (present %v)", cb, v, ok)
		}
	}
}
