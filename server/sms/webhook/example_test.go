package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/webhook"
)

// A team's endpoint checks every webhook with Verify before it sends the
// text; smscode's side posts with a webhook Provider.
func Example() {
	secret := "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err := webhook.Verify(secret, r.Header, body, 5*time.Minute, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// ... hand the text to the team's own SMS channel ...
		fmt.Fprint(w, `{"message_id":"team-42"}`)
	}))
	defer endpoint.Close()

	p, err := webhook.New(webhook.Config{URL: endpoint.URL, Secret: secret},
		webhook.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, err := p.Send(context.Background(), sms.Message{
		ID: "msg_1", To: "+8613800138000", Text: "Your code is 123456.", Code: "123456", TTLMinutes: 5,
	})
	fmt.Println(rec.Provider, rec.MessageID, err)
	// Output: webhook team-42 <nil>
}
