// Command sendcode is a service that uses the Go client, and nothing else of
// smscode: it sends the README's example request. internal/depcheck counts
// what importing client/ links, from this program.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/smscode/smscode/client"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "smscode's base URL")
	flag.Parse()
	c, err := client.New(*base,
		client.WithClientID("DRrYIqauawN0I8myTMoDTPys6ezGZxnm"),
		client.WithTenantID("08f770f51f80d2f40f38c00cb199fd21"),
		client.WithDevice(client.Device{OSVersion: "Android 10", Fingerprint: "156aysdna213sac", UserAgent: "Mozilla/5.0"}),
		client.WithLanguage("zh"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.SendSMS(ctx, "12345678901", client.ScenarioBindMobile, `71d******635---{"x":237.0,"y":5.0}`)
	var e *client.Error
	if errors.As(err, &e) && errors.Is(err, client.ErrTooFrequent) {
		fmt.Println("too frequent, retry after", e.RetryAfter)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("sent")
}
