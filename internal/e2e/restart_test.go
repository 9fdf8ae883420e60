package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/redistest"
)

// A number is sent its code and refused a second within its cooldown; Redis
// is killed (SIGKILL) and restarted with the same settings and data
// directory; the number is sent to again at once. Without persistence, and
// with RDB snapshots alone (none taken yet), Redis comes back without the
// cooldown and the number gets a second SMS; with the AOF (appendfsync
// everysec or always) the cooldown and the pending code survive. A SIGKILL
// loses nothing from the AOF with everysec either: Redis writes the AOF
// before it answers, and only fsyncs later; what everysec can lose, up to
// about a second, is on a crash of the machine.
//
// Each instance also says at start-up whether the settings fit: a warning
// naming appendonly when they do not.
func TestRedisRestartKeepsLimitsOnlyWithAOF(t *testing.T) {
	tests := []struct {
		name string
		args []string
		kept bool   // the cooldown survives the restart
		warn string // the setting warned of at start-up, or "" for none
	}{
		{"no persistence (save \"\", appendonly no)", nil, false, "appendonly"},
		{"RDB snapshots only (save 3600 1)", []string{"--save", "3600 1"}, false, "appendonly"},
		{"appendonly yes, appendfsync everysec", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, true, ""},
		{"appendonly yes, appendfsync always", []string{"--appendonly", "yes", "--appendfsync", "always"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const mobile = "15100000001"
			c := startClusterOn(t, 2, 0, redistest.Start(t, tt.args...))
			a, b := c.nodes[0], c.nodes[1]
			for _, in := range c.nodes {
				checkStartupWarning(t, in, tt.warn)
			}
			want(t, "send via A", a.send(t, sendReq{app: loadApp, mobile: mobile, device: "restart-1"}), http.StatusOK, "")
			want(t, "resend via B within the cooldown", b.send(t, sendReq{app: loadApp, mobile: mobile, device: "restart-2"}), http.StatusTooManyRequests, "SMS.0001")
			code := onlyCode(t, c.gw, mobile)

			c.redis.Restart()
			restarted := time.Now()
			// The same processes, at once: a 503 only while they
			// reconnect.
			var r reply
			waitFor(t, "an answer other than 503 after the restart", 5*time.Second, func() bool {
				r = a.send(t, sendReq{app: loadApp, mobile: mobile, device: "restart-3"})
				return r.Status != http.StatusServiceUnavailable
			})
			answeredIn := time.Since(restarted)
			sms := len(c.gw.to(e164(mobile)))
			if tt.kept {
				want(t, "send via A after the restart", r, http.StatusTooManyRequests, "SMS.0001")
				// The code sent before the restart still verifies.
				want(t, "verify the first code after the restart", b.verify(t, mobile, code), http.StatusOK, "")
			} else {
				want(t, "send via A after the restart", r, http.StatusOK, "")
			}
			if wantSMS := map[bool]int{true: 1, false: 2}[tt.kept]; sms != wantSMS {
				t.Errorf("the number got %d SMS within its cooldown, want %d", sms, wantSMS)
			}
			t.Logf("after the restart, answered %v in %v; %d SMS within the cooldown", r, answeredIn.Round(time.Millisecond), sms)
		})
	}
}

// checkStartupWarning fails the test unless the instance's log has a
// warning naming setting (and no other warning about Redis's settings),
// or, with setting "", the line saying the settings were checked.
func checkStartupWarning(t *testing.T, in *instance, setting string) {
	t.Helper()
	var warned []string
	checked := false
	sc := bufio.NewScanner(strings.NewReader(in.out.String()))
	for sc.Scan() {
		var l struct {
			Level   string `json:"level"`
			Msg     string `json:"msg"`
			Setting string `json:"setting"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue // go-redis's own lines are not JSON
		}
		switch {
		case l.Level == "WARN" && l.Setting != "":
			warned = append(warned, l.Setting)
		case strings.HasPrefix(l.Msg, "redis: settings checked"):
			checked = true
		}
	}
	switch {
	case setting == "" && (len(warned) != 0 || !checked):
		t.Errorf("instance %s: warned of %v, settings-checked line %v; want no warning and that line", in.name, warned, checked)
	case setting != "" && (len(warned) != 1 || warned[0] != setting):
		t.Errorf("instance %s: warned of %v, want [%s]", in.name, warned, setting)
	}
}
