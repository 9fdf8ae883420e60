package attack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/smscode/smscode/gen"
)

// Header bytes that net/http refuses itself (control characters other than
// tab, in a value or a name) are answered by Go before any handler runs:
// a plain-text 400 without the Error body, and the connection is closed,
// as openapi.yaml documents beside the 431 note. Bytes that net/http lets
// through (tab, bytes over 0x7f) reach the validator and get the header's
// documented code in the Error body. After each, a normal request is
// served.
func TestHeaderControlCharacters(t *testing.T) {
	tg := start(t)
	addr := strings.TrimPrefix(tg.URL, "http://")
	body := `{"mobile":"13800000001","type":"LOGIN_SMS","captcha_token":"71d******635---{\"x\":237.0,\"y\":5.0}"}`
	tests := []struct {
		name        string
		line        string        // the header line sent in place of the example's
		replaces    string        // the example header it replaces
		code        gen.ErrorCode // the Error body's code, when not goPlainText
		goPlainText bool
	}{
		{name: "NUL in X-agent", replaces: "X-agent", line: "X-agent: Mozilla\x00/5.0", goPlainText: true},
		{name: "SOH in X-L", replaces: "X-L", line: "X-L: zh\x01", goPlainText: true},
		{name: "ESC in X-device-fingerprint", replaces: "X-device-fingerprint", line: "X-device-fingerprint: abc\x1bdef", goPlainText: true},
		{name: "DEL in X-client-id", replaces: "X-client-id", line: "X-client-id: app\x7f", goPlainText: true},
		{name: "bare CR in X-agent", replaces: "X-agent", line: "X-agent: a\rb", goPlainText: true},
		{name: "control character in a name", replaces: "", line: "X-Pad\x01ding: x", goPlainText: true},
		{name: "tab in X-agent", replaces: "X-agent", line: "X-agent: Mozilla\t5.0", code: gen.ErrorCodeAgentInvalid},
		{name: "byte over 0x7f in X-agent", replaces: "X-agent", line: "X-agent: Mozilla\xff5.0", code: gen.ErrorCodeAgentInvalid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := rawHead(addr, tt.replaces)
			fmt.Fprintf(req, "%s\r\nContent-Length: %d\r\n\r\n%s", tt.line, len(body), body)
			r, closed := rawExchange(t, addr, req.Bytes())
			got := r.Body
			t.Logf("%q → %d %s %q", tt.line, r.Status, r.Header.Get("Content-Type"), got)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("got %s, want 400", r)
			}
			if tt.goPlainText {
				var e gen.Error
				if json.Unmarshal(got, &e) == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") ||
					!strings.HasPrefix(string(got), "400 Bad Request") || !closed {
					t.Errorf("got %s (Content-Type %q, close %v), want Go's plain-text 400 and a closed connection, as documented",
						r, r.Header.Get("Content-Type"), closed)
				}
			} else {
				checkErrorBody(t, r)
				var e gen.Error
				if json.Unmarshal(got, &e) != nil || e.ErrorCode != tt.code {
					t.Errorf("got %s, want %s", r, tt.code)
				}
			}
			want(t, tg.send(t, fmt.Sprintf("1390000001%d", i), login,
				map[string]string{"X-device-fingerprint": fmt.Sprintf("ctl-%d", i)}), http.StatusOK, "")
		})
	}
}
