package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/smscode/smscode/gen"
)

// Client calls one smscode (or OneAccess) deployment for one application.
// It is safe for concurrent use; make one and share it.
type Client struct {
	api      *gen.Client
	clientID string
	tenantID string
	device   Device
	lang     string
	retry    *RetryPolicy // nil: every call makes one request
	// sleep waits between attempts; tests replace it so that a 60 s
	// Retry-After takes no time.
	sleep func(context.Context, time.Duration) error
}

// SendResult is what a successful SendSMS reports, from the extension
// headers of the answer.
type SendResult struct {
	// ResendAfter is how long until another code may be sent to this
	// number for this scenario (X-Resend-After); zero if not given.
	ResendAfter time.Duration
	// ExpiresIn is how long the code just sent stays valid
	// (X-Code-Expires-In); zero if not given.
	ExpiresIn time.Duration
	// RequestID is the server's id of the request (X-Request-Id).
	RequestID string
}

// maxBody bounds how much of an answer is read. The API's answers are
// under 1 KiB; a larger one is not the server's, and must not cost memory.
const maxBody = 64 << 10

// New returns a Client for the deployment at baseURL (such as
// "https://api.example.com"; the API paths are appended to it). It fails
// when baseURL is not an http or https URL or when a header set by the
// options is missing or malformed: WithClientID and WithDevice (OS version,
// fingerprint, user agent) are required.
func New(baseURL string, opts ...Option) (*Client, error) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	err := errors.Join(validateBaseURL(baseURL), s.validate())
	if err != nil {
		return nil, fmt.Errorf("smscode client: %w", err)
	}
	hc := s.httpClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	c := &Client{
		clientID: s.clientID, tenantID: s.tenantID, device: s.device, lang: s.lang,
		sleep: sleepContext,
	}
	if s.retry != nil {
		p := s.retry.withDefaults()
		c.retry = &p
	}
	c.api, err = gen.NewClient(baseURL, gen.WithHTTPClient(hc), gen.WithRequestEditorFn(setRequestID))
	if err != nil {
		return nil, fmt.Errorf("smscode client: %w", err)
	}
	return c, nil
}

func validateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q: want http://host or https://host", raw)
	}
	return nil
}

// defaultHTTPClient is a client of the Client's own: a copy of the default
// transport (connection pooling, proxy from the environment) and a timeout,
// so that no other package's changes to http.DefaultClient reach it.
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		Timeout:   DefaultTimeout,
	}
}

// SendSMS asks the server to send a verification code by SMS to mobile
// (11 digits for mainland China, or E.164 such as "+447700900123") for
// scenario, with the CAPTCHA credential the user's device obtained. It
// returns a nil error only once an SMS provider accepted the message.
//
// An error answer is an *Error (see the package documentation). Any other
// error means the client could not get an answer, and the caller cannot
// know whether an SMS went out; the client does not repeat the request.
func (c *Client) SendSMS(ctx context.Context, mobile string, scenario Scenario, captchaToken string) (*SendResult, error) {
	params, err := c.params(ctx)
	if err != nil {
		return nil, err
	}
	body := gen.SendSmsRequest{Mobile: mobile, Type: scenario, CaptchaToken: captchaToken}
	var res *SendResult
	err = c.withRetry(ctx, func() error {
		resp, err := c.api.SendSms(ctx, &params, body)
		if err != nil {
			return fmt.Errorf("smscode: send SMS: %w", err)
		}
		raw, _ := readBody(resp)
		if !success(resp) {
			return newError(resp, raw)
		}
		// The body ("OK") is not checked: the 200 already says the SMS
		// went out, and calling that an error would invite a resend.
		res = &SendResult{
			ResendAfter: seconds(resp.Header.Get("X-Resend-After")),
			ExpiresIn:   seconds(resp.Header.Get("X-Code-Expires-In")),
			RequestID:   resp.Header.Get("X-Request-Id"),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// VerifySMS checks code, as the user typed it, against the last code sent
// to mobile for scenario. It returns nil when the code was right; the
// code is then used up. A wrong code is an *Error matching ErrCodeWrong;
// ErrCodeExpired and ErrCodeAttemptsExceeded mean a new code must be sent;
// ErrVerifyCallerDaily means this device or address tried too many wrong
// codes for the number today (Error.RetryAfter says when it may again).
func (c *Client) VerifySMS(ctx context.Context, mobile string, scenario Scenario, code string) error {
	params, err := c.params(ctx)
	if err != nil {
		return err
	}
	vparams := gen.VerifySmsParams(params)
	body := gen.VerifySmsRequest{Mobile: mobile, Type: scenario, VerifyCode: code}
	return c.withRetry(ctx, func() error {
		resp, err := c.api.VerifySms(ctx, &vparams, body)
		if err != nil {
			return fmt.Errorf("smscode: verify SMS code: %w", err)
		}
		raw, rerr := readBody(resp)
		if !success(resp) {
			return newError(resp, raw)
		}
		// Success must be said, not assumed from the status: a base URL
		// pointing at something that answers 200 to everything would
		// otherwise let every code through.
		var r gen.VerifySmsResult
		if rerr != nil || json.Unmarshal(raw, &r) != nil || !r.Verified {
			return fmt.Errorf("smscode: verify SMS code: %s answer without \"verified\": true; the code is not taken as right", resp.Status)
		}
		return nil
	})
}

// params returns the headers of a call: the Client's, or the context's
// per-call device and language.
func (c *Client) params(ctx context.Context) (gen.SendSmsParams, error) {
	d := c.device
	if cd, ok := ctx.Value(deviceKey{}).(Device); ok {
		if err := cd.validate(); err != nil {
			return gen.SendSmsParams{}, fmt.Errorf("smscode client: ContextWithDevice: %w", err)
		}
		d = cd
	}
	lang := c.lang
	if l, ok := ctx.Value(languageKey{}).(string); ok {
		if err := validateLanguage(l); err != nil {
			return gen.SendSmsParams{}, fmt.Errorf("smscode client: ContextWithLanguage: %w", err)
		}
		lang = l
	}
	p := gen.SendSmsParams{
		XClientId:            c.clientID,
		XOperatingSysVersion: d.OSVersion,
		XDeviceFingerprint:   d.Fingerprint,
		XAgent:               d.UserAgent,
	}
	if c.tenantID != "" {
		p.XTenantId = &c.tenantID
	}
	if d.IP != "" {
		p.XDeviceIp = &d.IP
	}
	if lang != "" {
		p.XL = &lang
	}
	return p, nil
}

// setRequestID is the generated client's request editor: it adds the
// caller's X-Request-Id from the context, when it is one the server keeps.
func setRequestID(ctx context.Context, req *http.Request) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && requestIDRE.MatchString(id) {
		req.Header.Set("X-Request-Id", id)
	}
	return nil
}

func success(resp *http.Response) bool { return resp.StatusCode >= 200 && resp.StatusCode < 300 }

// readBody reads at most maxBody bytes of the answer and closes it.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}
