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
	err = c.VerifySMS(context.Background(), "12345678901", client.ScenarioBindMobile, "493027")
	switch {
	case errors.Is(err, client.ErrCodeWrong):
		fmt.Println("wrong code; the user may try again")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("verified")
	}
}
