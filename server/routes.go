package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes puts the server's middleware around each route's handler once, when
// the route is registered, instead of on every request. Echo v4 applies the
// middleware given to Echo.Use per request (ServeHTTP wraps the route's
// handler in each of them anew), which makes a closure per middleware per
// request; the middleware here holds no per-request state in those
// closures, so composing them once serves the same chain.
//
// Echo.Use still gets one middleware, dispatch, which runs the composed
// chain of the route Echo's router matched (by method and route path) and,
// for anything else (no route: 404, another method: 405, routes mounted
// later through Server.Echo), applies the middleware per request, as
// before: every answer goes through the same chain.
type routes struct {
	e     *echo.Echo
	chain []echo.MiddlewareFunc // outermost first, as Echo.Use takes them
	// own, by route path, is the chain that serves that path in place of
	// chain, whatever the method (its 405 answers too): the receipts',
	// whose body limit is their own. Written while the server is built.
	own map[string][]echo.MiddlewareFunc
	// composed is written while the server is built, read-only after.
	composed map[routeKey]echo.HandlerFunc
	// replace, by route, turns the handler registered for it into the one
	// served (fastSendSms).
	replace map[routeKey]func(echo.HandlerFunc) echo.HandlerFunc
}

type routeKey struct{ method, path string }

func newRoutes(e *echo.Echo, chain ...echo.MiddlewareFunc) *routes {
	r := &routes{e: e, chain: chain, own: make(map[string][]echo.MiddlewareFunc),
		composed: make(map[routeKey]echo.HandlerFunc),
		replace:  make(map[routeKey]func(echo.HandlerFunc) echo.HandlerFunc)}
	// Echo calls Use's middleware on every request: it returns the one
	// method value made here, not a new one (an allocation) each time.
	dispatch := r.dispatch
	e.Use(func(echo.HandlerFunc) echo.HandlerFunc { return dispatch })
	return r
}

// chainFor makes chain the one of the routes on path, in place of the
// server's (see own). It must come before any route on path is added: a
// route's chain is composed when it is added, so it panics otherwise
// rather than leave that route on the server's chain.
func (r *routes) chainFor(path string, chain ...echo.MiddlewareFunc) {
	for k := range r.composed {
		if k.path == path {
			panic("server: chainFor(" + path + ") after a route on it was added")
		}
	}
	r.own[path] = chain
}

// wrap is h inside the chain of path.
func (r *routes) wrap(path string, h echo.HandlerFunc) echo.HandlerFunc {
	chain, ok := r.own[path]
	if !ok {
		chain = r.chain
	}
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	return h
}

// dispatch serves c with its route's composed chain, or composes one for
// this request. c.Handler() is the handler Echo's router found.
func (r *routes) dispatch(c echo.Context) error {
	if h, ok := r.composed[routeKey{c.Request().Method, c.Path()}]; ok {
		return h(c)
	}
	return r.wrap(c.Path(), c.Handler())(c)
}

// add registers h for method and path with Echo, and its composed chain.
// A route with route-level middleware is left to the per-request path,
// which applies that middleware inside the chain.
func (r *routes) add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	if replace := r.replace[routeKey{method, path}]; replace != nil {
		h = replace(h)
	}
	route := r.e.Add(method, path, h, m...)
	if len(m) == 0 {
		r.composed[routeKey{method, path}] = r.wrap(path, h)
	}
	return route
}

// The methods of genserver.EchoRouter, so that RegisterHandlers registers
// through add.

func (r *routes) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodConnect, p, h, m...)
}
func (r *routes) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodDelete, p, h, m...)
}
func (r *routes) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodGet, p, h, m...)
}
func (r *routes) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodHead, p, h, m...)
}
func (r *routes) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodOptions, p, h, m...)
}
func (r *routes) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPatch, p, h, m...)
}
func (r *routes) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPost, p, h, m...)
}
func (r *routes) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPut, p, h, m...)
}
func (r *routes) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodTrace, p, h, m...)
}
