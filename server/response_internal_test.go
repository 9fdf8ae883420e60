package server

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
)

// TestSendOKIsTheGeneratedAnswer checks that the hand-written 200 answer to
// a send writes exactly what the generated one writes: status, headers and
// body bytes.
func TestSendOKIsTheGeneratedAnswer(t *testing.T) {
	for _, tc := range []struct {
		name            string
		resend, expires int32
		requestID       string
	}{
		{"defaults", 60, 300, "3J5YQZQ2KXH7B6N4WQ2ZJ5Q2AA"},
		{"zero resend", 0, 1, "a"},
		{"one day", maxHeaderSeconds, maxHeaderSeconds, "gw-id.1_2-3"},
		{"small values", 7, 42, "0123456789012345678901234567890123456789012345678901234567890123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resend, expires, id := tc.resend, tc.expires, tc.requestID
			want := httptest.NewRecorder()
			generated := genserver.SendSms200JSONResponse{
				Body: gen.SendSmsResultOK,
				Headers: genserver.SendSms200ResponseHeaders{
					XResendAfter: &resend, XCodeExpiresIn: &expires, XRequestId: &id,
				},
			}
			if err := generated.VisitSendSmsResponse(want); err != nil {
				t.Fatal(err)
			}
			got := httptest.NewRecorder()
			if err := (sendOK{resendAfter: tc.resend, expiresIn: tc.expires, requestID: tc.requestID}).VisitSendSmsResponse(got); err != nil {
				t.Fatal(err)
			}
			if got.Code != want.Code || got.Code != http.StatusOK {
				t.Errorf("status %d, generated %d", got.Code, want.Code)
			}
			if !reflect.DeepEqual(got.Header(), want.Header()) {
				t.Errorf("headers %v, generated %v", got.Header(), want.Header())
			}
			if got.Body.String() != want.Body.String() {
				t.Errorf("body %q, generated %q", got.Body.String(), want.Body.String())
			}
		})
	}
}
