// The Go client (package client) covers the SMS operations; the CAPTCHA
// reads are in the client generated from the spec (package gen).
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/smscode/smscode/gen"
)

func main() {
	c, err := gen.NewClientWithResponses("https://api.example.com")
	if err != nil {
		log.Fatal(err)
	}
	tenant := gen.XTenantId("08f770f51f80d2f40f38c00cb199fd21")
	ip, lang := gen.XDeviceIp("10.10.10.1"), gen.XL("zh")
	params := &gen.VerifyCaptchaParams{
		XOperatingSysVersion: "Android 10",
		XDeviceFingerprint:   "156aysdna213sac",
		XDeviceIp:            &ip,
		XAgent:               "Mozilla/5.0 (Linux; Android 10)",
		XL:                   &lang,
		XClientId:            "DRrYIqauawN0I8myTMoDTPys6ezGZxnm",
		XTenantId:            &tenant,
	}
	resp, err := c.VerifyCaptchaWithResponse(context.Background(), params, gen.CaptchaVerifyRequest{
		Token:     "4Xy7b0kq2QxV3WzR9cTn8g",
		PointJson: `{"x":237.0,"y":5.0}`,
		Sender:    "12345678901",
	})
	if err != nil {
		log.Fatal(err)
	}
	if resp.JSON200 == nil { // an Error body: {error_code, error_msg}
		log.Fatalf("HTTP %d: %s", resp.StatusCode(), resp.Body)
	}
	fmt.Println("captcha_token for the send:", resp.JSON200.CaptchaToken)
}
