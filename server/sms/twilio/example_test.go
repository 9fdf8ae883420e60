package twilio_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/smscode/smscode/server/sms/twilio"
)

func Example() {
	p, err := twilio.New(twilio.Config{
		AccountSID: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		AuthToken:  "your-auth-token",
		From:       "+15005550006",
	}, twilio.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name())
	// Output: twilio
}
