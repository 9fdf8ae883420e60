// A gateway behind smscode's webhook provider posts a delivery receipt:
// the message's id and status, signed with Standard Webhooks under the
// provider's secret, to the receipt_url of the send's payload.
package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/smscode/smscode/server/sms/webhook"
)

func main() {
	secret := "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	receiptURL := "https://api.example.com/api/v2/sdk/sms/receipts/webhook" // the payload's receipt_url
	body := []byte(`{"message_id":"team-42","status":"delivered"}`)
	id, now := "rcpt_"+rand.Text(), time.Now()
	sig, err := webhook.Sign(secret, id, now, body)
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, receiptURL, bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status) // 204: taken (a replay or an unknown id too); 401: bad signature
}
