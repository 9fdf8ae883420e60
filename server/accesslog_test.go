package server_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/smscode/smscode/server"
)

// The probes (/healthz, /readyz, /metrics) are logged at debug, so that an
// info-level log is not a health check every few seconds; a probe that
// fails with 5xx, a path that only looks like one and the API stay at info.
func TestAccessLogLevels(t *testing.T) {
	tests := []struct {
		name, method, path string
		body               string
		storeDown          bool
		wantStatus         int
		wantLevel          string
	}{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantLevel: "DEBUG"},
		{name: "readyz", method: "GET", path: "/readyz", wantStatus: 200, wantLevel: "DEBUG"},
		{name: "readyz failing", method: "GET", path: "/readyz", storeDown: true, wantStatus: 503, wantLevel: "INFO"},
		{name: "metrics", method: "GET", path: "/metrics", wantStatus: 200, wantLevel: "DEBUG"},
		{name: "not a probe route", method: "GET", path: "/healthz/x", wantStatus: 404, wantLevel: "INFO"},
		{name: "the API", method: "POST", path: sendPath, body: seedBody, wantStatus: 200, wantLevel: "INFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newFake()
			if tt.storeDown {
				svc.readyErr = errors.New("store unreachable")
			}
			ts := start(t, server.Config{}, svc)
			var h http.Header
			if tt.body != "" {
				h = seedHeaders()
			}
			r := do(t, ts, tt.method, tt.path, h, strings.NewReader(tt.body))
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d", r.status, tt.wantStatus)
			}
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(ts.logs.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if m["msg"] == "request" {
					lines = append(lines, m)
				}
			}
			if len(lines) != 1 || lines[0]["level"] != tt.wantLevel || lines[0]["status"] != float64(tt.wantStatus) {
				t.Fatalf("access log lines %v, want one at %s with status %d", lines, tt.wantLevel, tt.wantStatus)
			}
		})
	}
}
