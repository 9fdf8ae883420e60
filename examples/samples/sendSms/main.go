package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/smscode/smscode/client"
)

func main() {
	c, err := client.New("https://api.example.com",
		client.WithClientID("DRrYIqauawN0I8myTMoDTPys6ezGZxnm"),
		client.WithTenantID("08f770f51f80d2f40f38c00cb199fd21"),
		client.WithDevice(client.Device{
			OSVersion:   "Android 10",
			Fingerprint: "156aysdna213sac",
			IP:          "10.10.10.1",
			UserAgent:   "Mozilla/5.0 (Linux; Android 10)",
		}),
		client.WithLanguage("zh"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.SendSMS(context.Background(), "12345678901",
		client.ScenarioBindMobile, `71d******635---{"x":237.0,"y":5.0}`)
	var e *client.Error
	if errors.As(err, &e) {
		log.Fatalf("%s (HTTP %d): %s; retry after %s", e.Code, e.StatusCode, e.Message, e.RetryAfter)
	}
	if err != nil {
		log.Fatal(err) // transport error: the SMS may or may not have been sent
	}
	fmt.Println("sent; resend after", res.ResendAfter)
}
