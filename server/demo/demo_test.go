package demo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/server/demo"
)

// get serves one request and returns the response and its body.
func get(t *testing.T, h http.Handler, method, path string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestAssets(t *testing.T) {
	h := demo.Handler(demo.Config{ClientID: "demo-app"})
	tests := []struct {
		path, ctype, contains string
	}{
		{"/demo", "text/html; charset=utf-8", "<!doctype html>"},
		{"/demo/", "text/html; charset=utf-8", "<!doctype html>"},
		{"/demo/app.js", "text/javascript; charset=utf-8", "use strict"},
		{"/demo/style.css", "text/css; charset=utf-8", "#slider-handle"},
		{"/demo/config.json", "application/json", `"client_id":"demo-app"`},
		{"/demo/altcha/altcha.js", "text/javascript; charset=utf-8", "altcha-widget"},
		{"/demo/altcha/worker.js", "text/javascript; charset=utf-8", "SHA-256"},
		{"/demo/altcha/altcha.css", "text/css; charset=utf-8", ".altcha"},
		{"/demo/altcha/LICENSE.txt", "text/plain; charset=utf-8", "MIT License"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, body := get(t, h, http.MethodGet, tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
			for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "ETag", "Cache-Control"} {
				if res.Header.Get(k) == "" {
					t.Errorf("no %s header", k)
				}
			}
			// Revalidation by ETag answers 304 with no body.
			res, body = get(t, h, http.MethodGet, tt.path, http.Header{"If-None-Match": {res.Header.Get("ETag")}})
			if res.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("If-None-Match: status %d, %d bytes", res.StatusCode, len(body))
			}
		})
	}
}

// Nothing is loaded from another origin: no CDN, no font service.
func TestNoExternalReferences(t *testing.T) {
	h := demo.Handler(demo.Config{ClientID: "demo-app"})
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(`)
	for _, path := range []string{"/demo", "/demo/app.js", "/demo/style.css"} {
		_, body := get(t, h, http.MethodGet, path, nil)
		if m := external.FindString(body); m != "" {
			t.Errorf("%s refers to %q", path, m)
		}
	}
	res, _ := get(t, h, http.MethodGet, "/demo", nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q does not confine the page to its origin", csp)
	}
}

// The page has the ids that browser tests drive, and offers exactly the
// spec's six scenarios.
func TestPageElements(t *testing.T) {
	_, body := get(t, demo.Handler(demo.Config{}), http.MethodGet, "/demo", nil)
	for _, id := range []string{"mobile", "scenario", "get-puzzle", "puzzle-bg", "puzzle-piece", "slider-handle",
		"send", "outbox", "code", "verify", "status", "lang", "client-id", "tenant-id"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("no element #%s", id)
		}
	}
	var options []string
	for _, m := range regexp.MustCompile(`<option value="([A-Z_]+)"`).FindAllStringSubmatch(body, -1) {
		options = append(options, m[1])
	}
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, v := range spec.Components.Schemas["Scenario"].Value.Enum {
		want = append(want, v.(string))
	}
	if !slices.Equal(options, want) {
		t.Errorf("scenario options %v, want the spec's %v", options, want)
	}
}

func TestConfigJSON(t *testing.T) {
	tests := []struct {
		name string
		cfg  demo.Config
	}{
		{"app", demo.Config{ClientID: "DRrYIqauawN0I8my"}},
		{"tenant, dev mode", demo.Config{ClientID: "isv", TenantID: "t1", DevMode: true}},
		{"quotes escaped", demo.Config{ClientID: `a"b</script>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, demo.Handler(tt.cfg), http.MethodGet, "/demo/config.json", nil)
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			var got struct {
				ClientID string `json:"client_id"`
				TenantID string `json:"tenant_id"`
				DevMode  bool   `json:"dev_mode"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if got.ClientID != tt.cfg.ClientID || got.TenantID != tt.cfg.TenantID || got.DevMode != tt.cfg.DevMode {
				t.Errorf("config %+v, want %+v", got, tt.cfg)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	h := demo.Handler(demo.Config{})
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/demo/missing.js", http.StatusNotFound},
		{http.MethodGet, "/demo/static/app.js", http.StatusNotFound},
		{http.MethodGet, "/demo/outbox", http.StatusNotFound}, // the server's, in dev mode only
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodPost, "/demo", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/demo/app.js", http.StatusMethodNotAllowed},
		{http.MethodHead, "/demo", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res, _ := get(t, h, tt.method, tt.path, nil)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
		})
	}
}

// TestVendoredAltchaMatchesNpm: the widget files embedded in the binary are
// those of the npm altcha that package.json pins, byte for byte, when
// node_modules is installed (make tools); the pinned version is the one
// static/altcha/README.md names.
func TestVendoredAltchaMatchesNpm(t *testing.T) {
	pkg, err := os.ReadFile("../../package.json")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Dev map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(pkg, &p); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("static/altcha/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if v := p.Dev["altcha"]; v == "" || !strings.Contains(string(readme), "version **"+v+"**") {
		t.Fatalf("package.json pins altcha %q; static/altcha/README.md must name that version", v)
	}
	mod := "../../node_modules/altcha/"
	installed, err := os.ReadFile(mod + "package.json")
	if err != nil {
		t.Skipf("node_modules/altcha not installed (make tools): %v", err)
	}
	var ip struct{ Version string }
	_ = json.Unmarshal(installed, &ip)
	if ip.Version != p.Dev["altcha"] {
		t.Skipf("node_modules has altcha %s, package.json pins %s: run make tools", ip.Version, p.Dev["altcha"])
	}
	for vendored, from := range map[string]string{
		"altcha.js": "dist_external/altcha.js", "worker.js": "dist_external/worker.js",
		"altcha.css": "dist_external/altcha.css", "LICENSE.txt": "LICENSE.txt",
	} {
		a, err1 := os.ReadFile("static/altcha/" + vendored)
		b, err2 := os.ReadFile(mod + from)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("static/altcha/%s differs from node_modules/altcha/%s (%v, %v)", vendored, from, err1, err2)
		}
	}
}
