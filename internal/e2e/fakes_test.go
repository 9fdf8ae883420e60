package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms/webhook"
)

// webhookSecret is the Standard Webhooks secret the instances sign with and
// the fake gateway checks: whsec_ and the base64 of 32 bytes.
const webhookSecret = "whsec_ZTJlLXdlYmhvb2stc2VjcmV0LTMyLWJ5dGVzLWxvbmc="

// turnstileSecret is the e2eapp's siteverify secret; the fake siteverify
// refuses calls that do not carry it.
const turnstileSecret = "e2e-turnstile-secret"

// message is one SMS the fake gateway accepted.
type message struct {
	ID, To, Code, Text string
}

// gateway is the operator's SMS gateway as smscode's webhook provider sees
// it: it accepts a message only when its Standard Webhooks signature
// verifies (webhook.Verify) and its payload is complete, and records it.
type gateway struct {
	// delay holds every answer back, so that requests stay in flight.
	delay time.Duration
	srv   *httptest.Server

	// arrived counts verified messages as they arrive, before the delay.
	arrived  atomic.Int64
	rejected atomic.Int64

	mu   sync.Mutex
	msgs []message
}

func newGateway(t *testing.T, delay time.Duration) *gateway {
	g := &gateway{delay: delay}
	g.srv = httptest.NewServer(g)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		g.reject(w, http.StatusMethodNotAllowed, "want POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		g.reject(w, http.StatusBadRequest, "read body")
		return
	}
	if err := webhook.Verify(webhookSecret, r.Header, body, time.Minute, time.Now()); err != nil {
		// 400, not 401: a 401 is read as a misconfiguration and retried,
		// and a bad signature must fail the test, not be retried away.
		g.reject(w, http.StatusBadRequest, err.Error())
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		g.reject(w, http.StatusBadRequest, "bad json")
		return
	}
	if p.ID == "" || p.ID != r.Header.Get(webhook.HeaderID) || p.To == "" || p.Code == "" || !strings.Contains(p.Text, p.Code) {
		g.reject(w, http.StatusUnprocessableEntity, "missing or inconsistent fields")
		return
	}
	g.arrived.Add(1)
	if g.delay > 0 {
		select {
		case <-time.After(g.delay):
		case <-r.Context().Done():
			// The sender gave up: it will not count this message as
			// delivered, so neither does the gateway.
			return
		}
	}
	g.mu.Lock()
	g.msgs = append(g.msgs, message{ID: p.ID, To: p.To, Code: p.Code, Text: p.Text})
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"message_id": "gw-" + p.ID})
}

func (g *gateway) reject(w http.ResponseWriter, status int, why string) {
	g.rejected.Add(1)
	http.Error(w, why, status)
}

// count is how many messages were accepted.
func (g *gateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.msgs)
}

// byNumber returns the accepted messages grouped by E.164 number.
func (g *gateway) byNumber() map[string][]message {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string][]message, len(g.msgs))
	for _, m := range g.msgs {
		out[m.To] = append(out[m.To], m)
	}
	return out
}

// to returns the messages accepted for one E.164 number.
func (g *gateway) to(e164 string) []message {
	return g.byNumber()[e164]
}

// siteverify is a fake Turnstile siteverify endpoint: tokens starting with
// "good" pass, others fail the challenge; it counts the calls, which is
// what proves that a token is verified once across instances.
type siteverify struct {
	srv   *httptest.Server
	calls atomic.Int64
}

func newSiteverify(t *testing.T) *siteverify {
	s := &siteverify{}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *siteverify) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("secret") != turnstileSecret {
		_, _ = io.WriteString(w, `{"success":false,"error-codes":["invalid-input-secret"]}`)
		return
	}
	if strings.HasPrefix(r.PostForm.Get("response"), "good") {
		_, _ = io.WriteString(w, `{"success":true,"error-codes":[]}`)
		return
	}
	// No error code: the challenge itself failed (CAPTCHA.0002).
	_, _ = io.WriteString(w, `{"success":false,"error-codes":[]}`)
}
