// Package demo serves a one-page demonstration of the API from the binary:
// a form that takes a mobile number, shows the built-in slider captcha (or,
// for an application whose captcha kind is altcha, the ALTCHA widget),
// sends a code and verifies it, calling the API exactly as a browser client
// of OneAccess would (same paths, headers and bodies).
//
// The page, its script and its style sheet are embedded: nothing is loaded
// from elsewhere, no build step is needed, and a Content-Security-Policy
// forbids anything but this origin.
package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"
)

//go:embed static
var static embed.FS

// Prefix is the path under which Handler serves the page and its assets.
// The server's dev-mode outbox (GET /demo/outbox) shares it but is served
// by the server, not by Handler.
const Prefix = "/demo"

// Config configures the page.
type Config struct {
	// ClientID is the X-client-id the page sends: the demo application's.
	// The page also lets a person type another one.
	ClientID string
	// TenantID is the X-tenant-id the page sends, if not empty.
	TenantID string
	// DevMode shows the dev-mode outbox (GET /demo/outbox) on the page, so
	// that the code can be read without a phone. Set it only when the
	// server runs with the dev SMS sender, which alone serves the outbox.
	DevMode bool
	// Captcha is the demo application's captcha kind: "altcha" shows the
	// ALTCHA widget (proof of work, vendored in static/altcha) instead of
	// the slider; anything else, the slider.
	Captcha string
}

// csp allows this origin only: the script and style sheet, the puzzle's
// data: images and the API calls. Scripts still move elements through the
// CSSOM, which style-src does not restrict.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is one file the handler serves.
type asset struct {
	body  []byte
	ctype string
	etag  string
	// cache is the Cache-Control value: assets are revalidated by ETag;
	// the configuration is never stored.
	cache string
}

// Handler serves the page at GET /demo (and /demo/), its assets at
// /demo/app.js, /demo/style.css and /demo/altcha/ (the ALTCHA widget), and its configuration (cfg, as JSON)
// at /demo/config.json. Other paths under /demo are 404, other methods
// 405. Mount it on both "/demo" and "/demo/" and, in dev mode, the outbox
// on "/demo/outbox" beside it.
func Handler(cfg Config) http.Handler {
	conf, _ := json.Marshal(struct { // strings and a bool: cannot fail
		ClientID string `json:"client_id"`
		TenantID string `json:"tenant_id"`
		DevMode  bool   `json:"dev_mode"`
		Captcha  string `json:"captcha"`
	}{cfg.ClientID, cfg.TenantID, cfg.DevMode, cfg.Captcha})

	page := file("index.html", "text/html; charset=utf-8")
	assets := map[string]asset{
		Prefix:                  page,
		Prefix + "/":            page,
		Prefix + "/app.js":      file("app.js", "text/javascript; charset=utf-8"),
		Prefix + "/style.css":   file("style.css", "text/css; charset=utf-8"),
		Prefix + "/config.json": newAsset(conf, "application/json", "no-store"),
		// The ALTCHA widget 2.3.0, vendored (static/altcha/README.md):
		// the module loads its solver worker from ./worker.js beside it.
		Prefix + "/altcha/altcha.js":   file("altcha/altcha.js", "text/javascript; charset=utf-8"),
		Prefix + "/altcha/worker.js":   file("altcha/worker.js", "text/javascript; charset=utf-8"),
		Prefix + "/altcha/altcha.css":  file("altcha/altcha.css", "text/css; charset=utf-8"),
		Prefix + "/altcha/LICENSE.txt": file("altcha/LICENSE.txt", "text/plain; charset=utf-8"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("Cache-Control", a.cache)
		h.Set("ETag", a.etag)
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// ServeContent answers HEAD, ranges and If-None-Match.
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

// file returns an embedded file as an asset. The files are compiled in, so
// a missing one is a broken build, caught by the tests first.
func file(name, ctype string) asset {
	b, err := static.ReadFile("static/" + name)
	if err != nil {
		panic("demo: " + err.Error())
	}
	return newAsset(b, ctype, "no-cache")
}

func newAsset(body []byte, ctype, cache string) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, cache: cache}
}
