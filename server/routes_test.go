package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server"
	"github.com/smscode/smscode/server/metrics"
)

// TestEveryRouteGetsTheChain checks that the middleware chain, composed
// once per registered route, runs for every kind of request alike: a spec
// route, a probe, the receipts (MountReceipts), a route mounted later
// through Echo(), a path with no route (404) and a route's path with
// another method (405). Each answer
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
	srv.MountReceipts(func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
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
		{"receipts", http.MethodPost, receiptsPath, nil, "{}", http.StatusNoContent, server.ReceiptsRoute},
		{"receipts, other method", http.MethodGet, receiptsPath, nil, "", http.StatusMethodNotAllowed, server.ReceiptsRoute},
		{"oversized header, spec route", http.MethodPost, sendPath, http.Header{"X-Big": {strings.Repeat("a", 2*server.DefaultMaxHeaderBytes)}}, "", http.StatusRequestHeaderFieldsTooLarge, sendPath},
		{"oversized header, receipts", http.MethodPost, receiptsPath, http.Header{"X-Big": {strings.Repeat("a", 2*server.DefaultMaxHeaderBytes)}}, "{}", http.StatusRequestHeaderFieldsTooLarge, server.ReceiptsRoute},
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

// receiptsPath is a request path of server.ReceiptsRoute.
const receiptsPath = "/api/v2/sdk/sms/receipts/gateway"

// TestReceiptsBodyLimit checks that the receipts have their own body limit
// and the API its own, on every way a body can be too large: a
// Content-Length over the limit (refused before the handler) and a chunked
// body that passes it (refused when read); and that a receipts path asked
// with another method is answered 405 under the receipts' limit, not the
// API's.
func TestReceiptsBodyLimit(t *testing.T) {
	const apiLimit, receiptLimit = 100, 1000
	srv, err := server.New(server.Config{BodyLimit: apiLimit, ReceiptBodyLimit: receiptLimit}, newFake(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Reads the whole body, as receipts.Service.Handler does; the error
	// handler answers a body over the limit 413 REQ.0002.
	srv.MountReceipts(func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	h := srv.Handler()
	for _, tc := range []struct {
		name, method, path string
		size               int
		chunked            bool
		wantStatus         int
	}{
		{"receipts over the API's limit", http.MethodPost, receiptsPath, apiLimit + 1, false, http.StatusNoContent},
		{"receipts at their limit", http.MethodPost, receiptsPath, receiptLimit, false, http.StatusNoContent},
		{"receipts over their limit", http.MethodPost, receiptsPath, receiptLimit + 1, false, http.StatusRequestEntityTooLarge},
		{"receipts chunked, at their limit", http.MethodPost, receiptsPath, receiptLimit, true, http.StatusNoContent},
		{"receipts chunked, over their limit", http.MethodPost, receiptsPath, receiptLimit + 1, true, http.StatusRequestEntityTooLarge},
		{"receipts path, other method, over the API's limit", http.MethodGet, receiptsPath, apiLimit + 1, false, http.StatusMethodNotAllowed},
		{"receipts path, other method, over their limit", http.MethodGet, receiptsPath, receiptLimit + 1, false, http.StatusRequestEntityTooLarge},
		{"API over its limit", http.MethodPost, sendPath, apiLimit + 1, false, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(strings.Repeat(" ", tc.size))
			if tc.chunked {
				body = io.MultiReader(body) // not a *strings.Reader: no Content-Length
			}
			req := httptest.NewRequest(tc.method, tc.path, body)
			if tc.chunked {
				req.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if w.Code == http.StatusRequestEntityTooLarge {
				var e gen.Error
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.ErrorCode != gen.ErrorCodeBodyTooLarge {
					t.Errorf("body %s, want error_code %s", w.Body, gen.ErrorCodeBodyTooLarge)
				}
			}
		})
	}
}

// TestReceiptsChainComposedOnce checks that the receipts are served by a
// chain composed when they are mounted, as the spec's routes are, and not
// by one composed anew for each request, as a route mounted through Echo()
// is: the same handler behind the same middleware takes fewer allocations
// per request on the receipts route than on a mounted one (each layer
// composed per request is at least one closure).
func TestReceiptsChainComposedOnce(t *testing.T) {
	srv, err := server.New(server.Config{}, newFake(), nil, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	handler := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	srv.MountReceipts(handler)
	srv.Echo().POST("/mounted/:provider", handler)
	h := srv.Handler()
	allocs := func(path string) float64 {
		return testing.AllocsPerRun(200, func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, nil))
			if w.Code != http.StatusNoContent {
				t.Fatalf("%s: status %d: %s", path, w.Code, w.Body)
			}
		})
	}
	receipts, mounted := allocs(receiptsPath), allocs("/mounted/gateway")
	t.Logf("allocations per request: receipts %.0f, a route mounted through Echo() %.0f", receipts, mounted)
	// The chain has seven layers (no tracing); the difference asked is
	// five, so that a layer more or less that allocates does not fail it.
	if receipts > mounted-5 {
		t.Errorf("receipts take %.0f allocations per request, a mounted route %.0f: the receipts' chain is composed per request", receipts, mounted)
	}
}
