package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/metrics"
)

// TestEveryRouteGetsTheChain checks that the middleware chain, composed
// once per registered route, runs for every kind of request alike: a spec
// route, a probe, a route mounted later through Echo(), a path with no
// route (404) and a route's path with another method (405). Each answer
// carries a request id, is logged once by the access log with its route
// and status, and the oversized header is refused by the header limit on
// each of them.
func TestEveryRouteGetsTheChain(t *testing.T) {
	// ServeHTTP is called here, one request at a time: a plain buffer.
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(server.Config{}, newFake(), log, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	srv.Echo().GET("/mounted", func(c echo.Context) error { return c.String(http.StatusOK, "mounted") })
	h := srv.Handler()
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		body               string
		wantStatus         int
		wantRoute          string
	}{
		{"spec route", http.MethodPost, sendPath, seedHeaders(), sendJSON(nil), http.StatusOK, sendPath},
		{"probe", http.MethodGet, "/healthz", nil, "", http.StatusOK, "/healthz"},
		{"mounted later", http.MethodGet, "/mounted", nil, "", http.StatusOK, "/mounted"},
		{"no route", http.MethodGet, "/nowhere", nil, "", http.StatusNotFound, "/nowhere"},
		{"other method", http.MethodGet, sendPath, nil, "", http.StatusMethodNotAllowed, sendPath},
		{"oversized header, spec route", http.MethodPost, sendPath, http.Header{"X-Big": {strings.Repeat("a", 2*server.DefaultMaxHeaderBytes)}}, "", http.StatusRequestHeaderFieldsTooLarge, sendPath},
		{"oversized header, mounted", http.MethodGet, "/mounted", http.Header{"X-Big": {strings.Repeat("a", 2*server.DefaultMaxHeaderBytes)}}, "", http.StatusRequestHeaderFieldsTooLarge, "/mounted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header[k] = v
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			id := w.Header().Get("X-Request-Id")
			if id == "" {
				t.Error("no X-Request-Id")
			}
			var lines []map[string]any
			for _, l := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
				var m map[string]any
				if err := json.Unmarshal(l, &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if m["msg"] == "request" {
					lines = append(lines, m)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d access log lines, want 1: %s", len(lines), logs.Bytes())
			}
			l := lines[0]
			if l["request_id"] != id || l["path"] != tc.wantRoute || l["status"] != float64(tc.wantStatus) {
				t.Errorf("access log %v, want request_id %s, path %s, status %d", l, id, tc.wantRoute, tc.wantStatus)
			}
		})
	}
}
