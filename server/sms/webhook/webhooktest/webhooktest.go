// Package webhooktest is a fake SMS gateway behind smscode's webhook
// provider, for tests: it checks each send's Standard Webhooks signature,
// records the payload, answers a message id of its own, and posts delivery
// receipts back signed exactly as the webhook provider's documentation
// asks a gateway to (webhook-id, webhook-timestamp, webhook-signature over
// the raw JSON body, under the provider's secret).
package webhooktest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms/webhook"
)

// Secret is the gateway's default signing secret.
const Secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// Sent is a message the gateway accepted.
type Sent struct {
	Payload webhook.Payload
	// MessageID is the id the gateway answered.
	MessageID string
}

// Gateway is the fake. Its URL is where the webhook provider sends.
type Gateway struct {
	URL    string
	Secret string
	srv    *httptest.Server
	mu     sync.Mutex
	sent   []Sent
	seq    int
}

// New starts a gateway, closed when t ends.
func New(t testing.TB) *Gateway {
	g := &Gateway{Secret: Secret}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	g.URL = g.srv.URL
	return g
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(g.Secret, r.Header, body, time.Minute, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.seq++
	id := fmt.Sprintf("gw-%d", g.seq)
	g.sent = append(g.sent, Sent{Payload: p, MessageID: id})
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"message_id": id})
}

// Last is the last message accepted for to (E.164).
func (g *Gateway) Last(to string) (Sent, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := len(g.sent) - 1; i >= 0; i-- {
		if g.sent[i].Payload.To == to {
			return g.sent[i], true
		}
	}
	return Sent{}, false
}

// Receipt is a signed receipt request for url (normally a payload's
// receipt_url, or the server's receipt endpoint): body as given, signed
// now under the gateway's secret.
func (g *Gateway) Receipt(url string, body []byte, now time.Time) (*http.Request, error) {
	return SignedReceipt(g.Secret, url, body, now)
}

// SignedReceipt is a receipt request for url with body, signed at now
// under secret (any secret: a test of a wrong one).
func SignedReceipt(secret, url string, body []byte, now time.Time) (*http.Request, error) {
	id := "rcpt_" + rand.Text()
	sig, err := webhook.Sign(secret, id, now, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderID, id)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	return req, nil
}

// Deliver posts a receipt {message_id, status} for a sent message to url
// and returns the answer's status.
func (g *Gateway) Deliver(url, messageID, status string) (int, error) {
	body, _ := json.Marshal(webhook.ReceiptPayload{MessageID: messageID, Status: status})
	req, err := g.Receipt(url, body, time.Now())
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
