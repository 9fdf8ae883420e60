package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/smscode/smscode/client"
)

// A service sends a code, meets the cooldown on a second send, and checks
// the code the user typed.
func Example() {
	srv := exampleServer() // in production: the deployment's URL
	defer srv.Close()

	c, err := client.New(srv.URL,
		client.WithClientID("DRrYIqauawN0I8myTMoDTPys6ezGZxnm"),
		client.WithTenantID("08f770f51f80d2f40f38c00cb199fd21"),
		client.WithDevice(client.Device{
			OSVersion:   "Android 10",
			Fingerprint: "156aysdna213sac",
			IP:          "10.10.10.1",
			UserAgent:   "Mozilla/5.0 (Linux; Android 10)",
		}),
		client.WithLanguage("en"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	token := `71d******635---{"x":237.0,"y":5.0}` // from the CAPTCHA the user solved

	res, err := c.SendSMS(ctx, "12345678901", client.ScenarioBindMobile, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("sent; resend after %v, code valid for %v\n", res.ResendAfter, res.ExpiresIn)

	_, err = c.SendSMS(ctx, "12345678901", client.ScenarioBindMobile, token)
	var ce *client.Error
	if errors.As(err, &ce) && errors.Is(err, client.ErrTooFrequent) {
		fmt.Printf("not sent: %s; try again in %v\n", ce.Message, ce.RetryAfter)
	}

	for _, typed := range []string{"111111", "493027"} {
		err := c.VerifySMS(ctx, "12345678901", client.ScenarioBindMobile, typed)
		switch {
		case err == nil:
			fmt.Println(typed, "verified")
		case errors.Is(err, client.ErrCodeWrong):
			fmt.Println(typed, "is wrong")
		default:
			fmt.Println(err)
		}
	}
	// Output:
	// sent; resend after 1m0s, code valid for 5m0s
	// not sent: SMS sent too frequently. Try again later.; try again in 1m0s
	// 111111 is wrong
	// 493027 verified
}

// Telling the user what went wrong: sentinels for the codes a service
// handles, CodeOf for the rest, Temporary for "try again later", and
// anything that is not an *Error for "no answer".
func ExampleError() {
	explain := func(err error) string {
		var ce *client.Error
		switch {
		case err == nil:
			return "sent"
		case errors.Is(err, client.ErrMobileInvalid):
			return "check the number"
		case errors.Is(err, client.ErrCaptchaWrong), errors.Is(err, client.ErrCaptchaExpired),
			errors.Is(err, client.ErrCaptchaInvalid):
			return "solve the CAPTCHA again"
		case client.IsRateLimited(err):
			ce, _ = errors.AsType[*client.Error](err)
			return fmt.Sprintf("wait %v", ce.RetryAfter)
		case errors.As(err, &ce) && ce.Temporary():
			return "service busy, try again later (request " + ce.RequestID + ")"
		case errors.As(err, &ce):
			return fmt.Sprintf("refused: %d %s", ce.StatusCode, ce.Code)
		default:
			return "no answer: " + err.Error()
		}
	}
	fmt.Println(explain(nil))
	fmt.Println(explain(&client.Error{StatusCode: 400, Code: client.CodeMobileInvalid}))
	fmt.Println(explain(fmt.Errorf("signup: %w", &client.Error{StatusCode: 400, Code: client.CodeCaptchaExpired})))
	fmt.Println(explain(&client.Error{StatusCode: 429, Code: client.CodeNumberDailyLimit, RetryAfter: 3 * time.Hour}))
	fmt.Println(explain(&client.Error{StatusCode: 503, Code: client.CodeProviderUnavailable, RequestID: "9b2f0c1e"}))
	fmt.Println(explain(&client.Error{StatusCode: 400, Code: client.CodeDestinationBlocked}))
	fmt.Println(explain(context.DeadlineExceeded))
	// Output:
	// sent
	// check the number
	// solve the CAPTCHA again
	// wait 3h0m0s
	// service busy, try again later (request 9b2f0c1e)
	// refused: 400 USER.0039
	// no answer: context deadline exceeded
}

// A service relaying for many users' devices passes each request's device,
// language and trace id in the context.
func ExampleContextWithDevice() {
	srv := exampleServer()
	defer srv.Close()
	c, err := client.New(srv.URL,
		client.WithClientID("DRrYIqauawN0I8myTMoDTPys6ezGZxnm"),
		client.WithTenantID("08f770f51f80d2f40f38c00cb199fd21"),
		client.WithDevice(client.Device{OSVersion: "Linux", Fingerprint: "signup-service", UserAgent: "signup/1.0"}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	// In an HTTP handler, from the incoming request:
	ctx := client.ContextWithDevice(context.Background(), client.Device{
		OSVersion: "iOS 18.2", Fingerprint: "a41f9c2e", IP: "203.0.113.7", UserAgent: "MyApp/3.1 (iPhone)",
	})
	ctx = client.ContextWithLanguage(ctx, "zh")
	ctx = client.ContextWithRequestID(ctx, "trace-7f3a")

	res, err := c.SendSMS(ctx, "+447700900123", client.ScenarioLogin, "turnstile-token")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("request", res.RequestID)
	// Output:
	// request trace-7f3a
}

// WithRetry is opt-in: a send refused by the cooldown, with at most 10 s to
// wait, is waited out once and repeated. The server sent nothing on that
// refusal, so the repeat cannot send a second SMS.
func ExampleWithRetry() {
	c, err := client.New("https://sms.example.com",
		client.WithClientID("DRrYIqauawN0I8myTMoDTPys6ezGZxnm"),
		client.WithDevice(client.Device{OSVersion: "Linux", Fingerprint: "signup-service", UserAgent: "signup/1.0"}),
		client.WithRetry(client.RetryPolicy{MaxWait: 10 * time.Second, MaxAttempts: 2}),
		client.WithHTTPClient(&http.Client{Timeout: 12 * time.Second}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The context bounds the whole call, waits included.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.SendSMS(ctx, "12345678901", client.ScenarioLogin, "captcha-token")
	fmt.Println(err)
}

// exampleServer stands in for an smscode server in the examples, answering
// as the real one does (the package's tests run the real one): one send per
// number, then 429 SMS.0001; the code is always 493027.
func exampleServer() *httptest.Server {
	var mu sync.Mutex
	sent := map[string]bool{}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Mobile     string `json:"mobile"`
			VerifyCode string `json:"verify_code"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		id := r.Header.Get("X-Request-Id")
		if id == "" {
			id = "9b2f0c1e7d4a4f7e"
		}
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("Content-Type", "application/json")
		fail := func(status int, code, msg string) {
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "error_msg": msg})
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == "/api/v2/sdk/sms/send" && sent[req.Mobile]:
			w.Header().Set("Retry-After", "60")
			fail(http.StatusTooManyRequests, "SMS.0001", "SMS sent too frequently. Try again later.")
		case r.URL.Path == "/api/v2/sdk/sms/send":
			sent[req.Mobile] = true
			w.Header().Set("X-Resend-After", "60")
			w.Header().Set("X-Code-Expires-In", "300")
			_, _ = w.Write([]byte(`"OK"`))
		case r.URL.Path == "/api/v2/sdk/sms/verify" && req.VerifyCode == "493027":
			_, _ = w.Write([]byte(`{"verified":true}`))
		case r.URL.Path == "/api/v2/sdk/sms/verify":
			fail(http.StatusBadRequest, "VERIFY.0001", "Incorrect verification code.")
		default:
			fail(http.StatusNotFound, "REQ.0005", "Resource not found.")
		}
	}))
}
