package demo_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/smscode/smscode/server/demo"
)

// Mounting the page beside the API. In dev mode the server also serves
// GET /demo/outbox, which the more specific pattern routes to it.
func Example() {
	page := demo.Handler(demo.Config{ClientID: "DRrYIqauawN0I8my", DevMode: true})
	mux := http.NewServeMux()
	mux.Handle("GET /demo", page)
	mux.Handle("GET /demo/", page)
	mux.HandleFunc("GET /demo/outbox", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "[smscode] Your code is 493027.")
	})

	for _, path := range []string{"/demo", "/demo/app.js", "/demo/outbox"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// /demo 200 text/html; charset=utf-8
	// /demo/app.js 200 text/javascript; charset=utf-8
	// /demo/outbox 200 text/plain; charset=utf-8
}
