package captcha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
)

// The siteverify endpoints of the two providers that share the protocol.
const (
	// TurnstileURL is Cloudflare Turnstile's siteverify endpoint.
	TurnstileURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
	// HCaptchaURL is hCaptcha's siteverify endpoint.
	HCaptchaURL = "https://api.hcaptcha.com/siteverify"
)

// DefaultSiteverifyTimeout bounds one siteverify call when
// SiteverifyConfig.Timeout is zero.
const DefaultSiteverifyTimeout = 5 * time.Second

// maxSiteverifyBody is how much of a siteverify answer is read. The documented
// answers are a few hundred bytes; anything longer is not one of them (an
// error page, a proxy's interstitial) and is read as malformed.
const maxSiteverifyBody = 4 << 10

// SiteverifyConfig configures a Siteverify verifier.
type SiteverifyConfig struct {
	// URL is the siteverify endpoint: TurnstileURL, HCaptchaURL or a
	// compatible one. Required; it must be an absolute http or https URL.
	URL string
	// Secret is the widget's secret key. Required. It is sent only in the
	// request body and never appears in errors or logs.
	Secret string
	// Timeout bounds each call, connection included. The default value is
	// DefaultSiteverifyTimeout (5 s).
	Timeout time.Duration
	// Client sends the requests. The default value is a client of this
	// verifier's own (never http.DefaultClient) that does not follow
	// redirects: siteverify never redirects, and following a 307 would
	// re-post the secret to wherever it points.
	Client *http.Client
	// Logger receives an error when the provider reports that the
	// verifier is misconfigured (wrong secret or site key). The default
	// value is slog.Default().
	Logger *slog.Logger
}

// Siteverify checks Cloudflare Turnstile and hCaptcha response tokens with
// the provider's siteverify API. It fails closed: when the provider cannot
// give a clear answer (timeout, connection error, non-2xx status, malformed
// JSON, or a report that this server's own configuration is wrong) Verify
// returns CAPTCHA.0006 and nothing is sent.
type Siteverify struct {
	url     string
	secret  string
	timeout time.Duration
	client  *http.Client
	log     *slog.Logger
}

var _ Verifier = (*Siteverify)(nil)

// NewSiteverify returns a Siteverify verifier, or an error when cfg lacks
// the URL or the secret.
func NewSiteverify(cfg SiteverifyConfig) (*Siteverify, error) {
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("captcha: siteverify URL must be an absolute http(s) URL")
	}
	if cfg.Secret == "" {
		return nil, errors.New("captcha: siteverify secret is required")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("captcha: siteverify timeout must not be negative")
	}
	s := &Siteverify{url: cfg.URL, secret: cfg.Secret, timeout: cfg.Timeout, client: cfg.Client, log: cfg.Logger}
	if s.timeout == 0 {
		s.timeout = DefaultSiteverifyTimeout
	}
	if s.client == nil {
		s.client = &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			Timeout:   s.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// siteverifyAnswer is the part of a siteverify answer that Verify reads.
// Success is a pointer so that an answer without it is malformed, not a
// refusal.
type siteverifyAnswer struct {
	Success    *bool    `json:"success"`
	ErrorCodes []string `json:"error-codes"`
}

// Verify asks the provider about req.Token, passing req.RemoteIP when set.
func (s *Siteverify) Verify(ctx context.Context, req Request) error {
	if req.Token == "" {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	ans, err := s.call(ctx, req)
	if err != nil {
		return apierr.Wrap(gen.ErrorCodeCaptchaUnavailable, err)
	}
	if *ans.Success {
		return nil
	}
	code, misconfigured := classify(ans.ErrorCodes)
	if misconfigured {
		// The provider refuses this server, not the user: every send fails
		// until an operator fixes the configuration, so say it loudly.
		s.log.ErrorContext(ctx, "captcha: siteverify reports a configuration error",
			"url", s.url, "error_codes", ans.ErrorCodes)
	}
	return apierr.Wrap(code, fmt.Errorf("siteverify refused the token: %s", strings.Join(ans.ErrorCodes, ",")))
}

// call posts the form and decodes the answer. Its errors never contain the
// secret: it travels only in the request body.
func (s *Siteverify) call(ctx context.Context, req Request) (siteverifyAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	form := url.Values{"secret": {s.secret}, "response": {req.Token}}
	if req.RemoteIP != "" {
		form.Set("remoteip", req.RemoteIP)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		return siteverifyAnswer{}, fmt.Errorf("siteverify request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("Accept", "application/json")

	resp, err := s.client.Do(hreq)
	if err != nil {
		return siteverifyAnswer{}, fmt.Errorf("siteverify call: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return siteverifyAnswer{}, fmt.Errorf("siteverify answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSiteverifyBody+1))
	if err != nil {
		return siteverifyAnswer{}, fmt.Errorf("siteverify read: %w", err)
	}
	if len(body) > maxSiteverifyBody {
		return siteverifyAnswer{}, fmt.Errorf("siteverify answer is longer than %d bytes", maxSiteverifyBody)
	}
	var ans siteverifyAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return siteverifyAnswer{}, fmt.Errorf("siteverify answer is not JSON: %w", err)
	}
	if ans.Success == nil {
		return siteverifyAnswer{}, errors.New("siteverify answer has no success field")
	}
	return ans, nil
}

// Outcomes of the documented siteverify error codes, from the strongest to
// the weakest: when an answer lists several, the strongest decides.
const (
	outcomeFailed        = iota // no documented reason: the challenge failed
	outcomeInvalid              // the token is unknown, malformed or used
	outcomeExpired              // the token was good but is too old
	outcomeUnavailable          // the provider could not decide
	outcomeMisconfigured        // the provider refuses this server's request
)

// errorCodeOutcomes maps the error codes documented by Cloudflare Turnstile
// (developers.cloudflare.com/turnstile/get-started/server-side-validation)
// and hCaptcha (docs.hcaptcha.com, "siteverify error codes table").
var errorCodeOutcomes = map[string]int{
	// Both: our secret or our request is wrong. Nothing the user does
	// changes it, so it is an outage of the check (503), not a refusal.
	"missing-input-secret": outcomeMisconfigured,
	"invalid-input-secret": outcomeMisconfigured,
	"bad-request":          outcomeMisconfigured,
	// hCaptcha: the secret does not belong to the site key, or the
	// account requires a remote IP that is missing or not an address
	// (ours comes from the server, never the client).
	"sitekey-secret-mismatch": outcomeMisconfigured,
	"missing-remoteip":        outcomeMisconfigured,
	"invalid-remoteip":        outcomeMisconfigured,

	// Turnstile: a temporary failure that "can be retried".
	"internal-error": outcomeUnavailable,

	// hCaptcha is the only one to say "expired" on its own.
	"expired-input-response": outcomeExpired,

	// Both: no token, a forged or malformed one, or one already redeemed.
	// Turnstile's timeout-or-duplicate joins expiry and reuse in one code,
	// and its invalid-input-response covers expired tokens too, so neither
	// can honestly say CAPTCHA.0003.
	"missing-input-response":           outcomeInvalid,
	"invalid-input-response":           outcomeInvalid,
	"timeout-or-duplicate":             outcomeInvalid,
	"already-seen-response":            outcomeInvalid,
	"invalid-or-already-seen-response": outcomeInvalid,
	// hCaptcha's test-key codes are triggered by the token: anyone can
	// submit hCaptcha's published dummy token. Reading them as
	// misconfiguration would let a client raise 503s and error logs at
	// will, so they refuse the token instead.
	"not-using-dummy-passcode": outcomeInvalid,
	"not-using-dummy-secret":   outcomeInvalid,
}

// classify turns the error codes of a refusal into an API error code, and
// reports whether they say this server is misconfigured. Unknown codes and
// an empty list mean the provider judged the challenge failed: CAPTCHA.0002.
func classify(codes []string) (gen.ErrorCode, bool) {
	worst := outcomeFailed
	for _, c := range codes {
		if o, ok := errorCodeOutcomes[c]; ok && o > worst {
			worst = o
		}
	}
	switch worst {
	case outcomeMisconfigured:
		return gen.ErrorCodeCaptchaUnavailable, true
	case outcomeUnavailable:
		return gen.ErrorCodeCaptchaUnavailable, false
	case outcomeExpired:
		return gen.ErrorCodeCaptchaExpired, false
	case outcomeInvalid:
		return gen.ErrorCodeCaptchaInvalid, false
	default:
		return gen.ErrorCodeCaptchaWrong, false
	}
}
