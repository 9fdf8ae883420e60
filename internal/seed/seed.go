// Package seed holds the example request of OneAccess's "Sending an SMS
// Verification Code", the document this project was created from: its exact
// headers and body, for the tests, benchmarks and test servers that send
// it. (The runnable examples spell it out instead, for their readers.)
package seed

import "net/http"

// The example's values. The server's embedded defaults register this
// application, with CaptchaToken as a test token.
const (
	ClientID     = "DRrYIqauawN0I8myTMoDTPys6ezGZxnm"
	TenantID     = "08f770f51f80d2f40f38c00cb199fd21"
	CaptchaToken = `71d******635---{"x":237.0,"y":5.0}`
	Mobile       = "12345678901"
	Scenario     = "BIND_MOBILE_SMS"
	Agent        = "Mozilla/5.0 (Linux; Android 10; Redmi K30 Build/QKQ1.190825.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/80.0.3987.99 Mobile Safari/537.36"
)

// Body is the example's body as the document prints it.
const Body = `{
  "mobile": "12345678901",
  "type": "BIND_MOBILE_SMS",
  "captcha_token": "71d******635---{\"x\":237.0,\"y\":5.0}"
}`

// Headers returns the example's headers, with the Content-Type the
// document gives, as a new map each call.
func Headers() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json;charset=utf8")
	h.Set("X-operating-sys-version", "Android 10")
	h.Set("X-device-fingerprint", "156aysdna213sac")
	h.Set("X-device-ip", "10.10.10.1")
	h.Set("X-agent", Agent)
	h.Set("X-L", "zh")
	h.Set("X-client-id", ClientID)
	h.Set("X-tenant-id", TenantID)
	return h
}
