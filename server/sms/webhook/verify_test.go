package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms/webhook"
)

// TestSignKnownVector checks Sign against the Standard Webhooks reference
// libraries' test vector, recomputed independently with openssl: HMAC-SHA256
// of "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}" under
// the base64-decoded key of "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".
func TestSignKnownVector(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	got, err := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"id":"msg_1"}`)
	good, err := webhook.Sign(testSecret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-32-bytes-long!"))
	bad, _ := webhook.Sign(other, "msg_1", now, body)
	header := func(id string, ts time.Time, sig string) http.Header {
		h := http.Header{}
		if id != "" {
			h.Set(webhook.HeaderID, id)
		}
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		if sig != "" {
			h.Set(webhook.HeaderSignature, sig)
		}
		return h
	}
	tests := []struct {
		name    string
		secret  string
		h       http.Header
		body    []byte
		now     time.Time
		wantErr error
	}{
		{"valid", testSecret, header("msg_1", now, good), body, now, nil},
		{"valid among several", testSecret, header("msg_1", now, "v1a,AAAA "+bad+" "+good), body, now, nil},
		{"clock skew within tolerance", testSecret, header("msg_1", now, good), body, now.Add(4 * time.Minute), nil},
		{"too old", testSecret, header("msg_1", now, good), body, now.Add(6 * time.Minute), webhook.ErrTimestamp},
		{"from the future", testSecret, header("msg_1", now, good), body, now.Add(-6 * time.Minute), webhook.ErrTimestamp},
		{"other secret", testSecret, header("msg_1", now, bad), body, now, webhook.ErrNoMatchSignature},
		{"body changed", testSecret, header("msg_1", now, good), []byte(`{"id":"msg_2"}`), now, webhook.ErrNoMatchSignature},
		{"id changed", testSecret, header("msg_2", now, good), body, now, webhook.ErrNoMatchSignature},
		{"no id", testSecret, header("", now, good), body, now, webhook.ErrMissingHeader},
		{"no signature", testSecret, header("msg_1", now, ""), body, now, webhook.ErrMissingHeader},
		{"bad secret", "secret", header("msg_1", now, good), body, now, webhook.ErrBadSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.h, tc.body, 0, tc.now)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Verify = %v, want %v", err, tc.wantErr)
			}
		})
	}
}
