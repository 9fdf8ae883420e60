// Package smstest is the shared test kit of the SMS providers: a Gateway
// whose behaviour a test switches (accept, refuse for good, answer 5xx, hang,
// reset the connection), an sms-level Fake provider driven by the same
// switch, and Run, the one conformance suite that every sms.Provider passes.
//
// Each provider's own test writes a fake of its gateway (an http.Handler
// that checks what the real gateway checks: signatures, credentials,
// required fields) and serves it with Gateway.Server, which applies the
// transport-level behaviours before the fake sees the request.
package smstest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Behaviour is what a Gateway does with the requests it receives.
type Behaviour int

const (
	// Accept: the fake checks the request and accepts the message.
	Accept Behaviour = iota
	// RefusePermanently: the fake checks the request and answers with the
	// gateway's documented refusal for an unreachable or invalid number.
	RefusePermanently
	// ServerError: the gateway answers 503 with a plain-text body.
	ServerError
	// Hang: the gateway reads the request and never answers, until the
	// client gives up.
	Hang
	// Reset: the gateway closes the connection without answering.
	Reset
)

// String names the behaviour, for test names and messages.
func (b Behaviour) String() string {
	switch b {
	case Accept:
		return "accept"
	case RefusePermanently:
		return "refuse_permanently"
	case ServerError:
		return "server_error"
	case Hang:
		return "hang"
	case Reset:
		return "reset"
	}
	return fmt.Sprintf("behaviour(%d)", int(b))
}

// Received is a message a fake gateway accepted, as the gateway saw it.
type Received struct {
	// ID is the id the fake assigned (the gateway's message id).
	ID string
	// To is the destination, converted back to E.164 by the fake.
	To string
	// Code is the code the fake found in the template parameters, if the
	// gateway renders templates; Text is the message body, if it does not.
	Code string
	Text string
	// Ref is the caller's reference, if the gateway carries one (the
	// webhook id); empty otherwise.
	Ref string
}

// Gateway is the behaviour switch and the record of one fake gateway. Its
// methods are safe for concurrent use.
type Gateway struct {
	mu        sync.Mutex
	behaviour Behaviour
	attempts  int
	accepted  []Received
	done      chan struct{}
	stopOnce  sync.Once
}

// NewGateway returns a Gateway that accepts messages.
func NewGateway() *Gateway {
	return &Gateway{done: make(chan struct{})}
}

// Set switches what the gateway does with the next requests.
func (g *Gateway) Set(b Behaviour) {
	g.mu.Lock()
	g.behaviour = b
	g.mu.Unlock()
}

// Behaviour is what the gateway currently does.
func (g *Gateway) Behaviour() Behaviour {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.behaviour
}

// Accept records an accepted message and returns the message id the fake
// should answer with (fake-1, fake-2, ...).
func (g *Gateway) Accept(r Received) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	r.ID = fmt.Sprintf("fake-%d", len(g.accepted)+1)
	g.accepted = append(g.accepted, r)
	return r.ID
}

// Accepted returns the messages the gateway accepted, in order.
func (g *Gateway) Accepted() []Received {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Received(nil), g.accepted...)
}

// Attempts is how many requests (or, for a Fake, sends) reached the gateway.
func (g *Gateway) Attempts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.attempts
}

func (g *Gateway) attempt() Behaviour {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.attempts++
	return g.behaviour
}

// Done is closed when the test that owns the gateway ends, so that hung
// handlers return.
func (g *Gateway) Done() <-chan struct{} { return g.done }

func (g *Gateway) stop() { g.stopOnce.Do(func() { close(g.done) }) }

// Server serves fake behind the gateway's switch on a local httptest
// server, closed when the test ends. ServerError, Hang and Reset are
// handled here; on Accept and RefusePermanently the request goes to fake,
// which checks it, consults Behaviour and calls Accept.
func (g *Gateway) Server(t testing.TB, fake http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch g.attempt() {
		case ServerError:
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		case Hang:
			select {
			case <-r.Context().Done():
			case <-g.done:
			}
		case Reset:
			resetConn(w)
		default:
			fake.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(func() {
		g.stop()
		srv.Close()
	})
	return srv
}

// resetConn takes the connection over and closes it with a TCP reset.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("smstest: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
