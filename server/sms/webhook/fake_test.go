package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/smscode/smscode/server/sms/smstest"
	"github.com/smscode/smscode/server/sms/webhook"
)

// fake is a team's webhook endpoint: it checks what a receiver following
// the Standard Webhooks spec checks (method, content type, the three
// headers, the signature and timestamp via webhook.Verify, webhook-id equal
// to the payload id, the required fields), then accepts or refuses as its
// gateway says.
type fake struct {
	g      *smstest.Gateway
	secret string
	// answer, if set, replaces the success body.
	answer string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(f.secret, r.Header, body, time.Minute, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	if p.ID != r.Header.Get(webhook.HeaderID) || p.To == "" || p.Code == "" || p.Text == "" || p.TTLMinutes <= 0 {
		http.Error(w, "missing or inconsistent fields", http.StatusUnprocessableEntity)
		return
	}
	if f.g.Behaviour() == smstest.RefusePermanently {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, `{"error":"number_unreachable","to":"`+p.To+`"}`)
		return
	}
	id := f.g.Accept(smstest.Received{To: p.To, Code: p.Code, Text: p.Text, Ref: p.ID})
	w.Header().Set("Content-Type", "application/json")
	if f.answer != "" {
		_, _ = io.WriteString(w, f.answer)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"message_id": id})
}
