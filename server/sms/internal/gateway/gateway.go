// Package gateway is the plumbing the HTTP SMS providers (webhook, huawei,
// aliyun, twilio) share: the defaults their options change, the POST of a
// request with a bounded read of the answer, the cleaning of transport
// errors, the masking of gateway texts and the logging of operator errors.
//
// It exists so that a fix to any of these (a bound, a mask, an error text
// that must not carry a URL) is made once for every provider. What differs
// between gateways stays in each provider: the request, its
// authentication, and the table that maps a gateway's answers to sms
// outcomes.
package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smscode/smscode/server/sms"
)

// MaxAnswer is how much of a gateway's answer is read. The documented
// answers are a few hundred bytes; the bound keeps a misbehaving gateway
// from making a send read without end.
const MaxAnswer = 4 << 10

// DefaultTimeout is the timeout of the default HTTP client, so that a
// provider used without WithHTTPClient and without a context deadline
// cannot hang a send.
const DefaultTimeout = 10 * time.Second

// Base is what a provider keeps besides its configuration: its name and
// what its WithHTTPClient, WithLogger and WithClock options set. A
// provider holds one in an unexported field, so that none of it is part
// of the provider's API.
type Base struct {
	// Name is the provider's name: the prefix of its errors and the
	// "provider" field of its logs.
	Name string
	// Client sends the requests.
	Client *http.Client
	// Log receives the operator errors.
	Log *slog.Logger
	// Now is the clock of the timestamps a gateway checks.
	Now func() time.Time
}

// NewBase returns the defaults of a provider named name: a client with
// DefaultTimeout, a logger that discards and time.Now.
func NewBase(name string) Base {
	return Base{
		Name:   name,
		Client: &http.Client{Timeout: DefaultTimeout},
		Log:    slog.New(slog.DiscardHandler),
		Now:    time.Now,
	}
}

// NewRequest builds a POST of body to url with the given Content-Type. Its
// error reads "<name>: build request: <cause>".
func (b *Base) NewRequest(ctx context.Context, url, contentType string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", b.Name, err)
	}
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// NewFormRequest builds a POST of an encoded form to url that asks for a
// JSON answer, the shape of the cloud gateways' send APIs.
func (b *Base) NewFormRequest(ctx context.Context, url, form string) (*http.Request, error) {
	req, err := b.NewRequest(ctx, url, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// Do sends req and returns the answer's status and at most MaxAnswer bytes
// of its body; a body cut short by a read error is classified as it is,
// since the status alone decides most outcomes. A transport error reads
// "<name>: <what>: <cause>", the cause without the URL (see
// TransportError), and is temporary.
func (b *Base) Do(req *http.Request, what string) (status int, answer []byte, err error) {
	resp, err := b.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %s: %w", b.Name, what, TransportError(err))
	}
	defer resp.Body.Close()
	answer, _ = io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	return resp.StatusCode, answer, nil
}

// LogOperatorError logs, at error level, a refusal that the operator must
// fix (credentials, sender, template, endpoint): such refusals are returned
// as temporary errors, so that a failover tries another provider, and
// would otherwise go unnoticed. The "provider" field comes first, then
// args.
func (b *Base) LogOperatorError(msg string, args ...any) {
	b.Log.Error(msg, append([]any{"provider", b.Name}, args...)...)
}

// E164 matches a number in E.164 form: "+", a country code not starting
// with 0, and 7 to 15 digits in all.
var E164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// CheckE164 refuses, for good (sms.ErrPermanent), a destination that is not
// an E.164 number: no gateway will take it, on any attempt.
func (b *Base) CheckE164(to string) error {
	if !E164.MatchString(to) {
		return fmt.Errorf("%s: destination is not an E.164 number: %w", b.Name, sms.ErrPermanent)
	}
	return nil
}

// ParseHTTPURL parses an absolute http or https URL; ok is false for
// anything else, such as a URL without a scheme or host.
func ParseHTTPURL(s string) (u *url.URL, ok bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// TransportError drops the *url.Error wrapper, whose text repeats the URL:
// a URL may carry a token in its query, and errors are logged.
func TransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxText is how much of a gateway's text an error repeats.
const maxText = 200

// Redact prepares a gateway's text (an error description, an answer
// body) for an error message: it shortens it, drops invalid UTF-8 and
// masks the code and the number, with and without "+", and each of also
// (other spellings of them that a gateway may echo), since errors are
// logged and the code is a credential.
func Redact(s string, msg sms.Message, also ...string) string {
	if len(s) > maxText {
		s = s[:maxText] + "..."
	}
	s = strings.ToValidUTF8(s, "")
	for _, v := range append([]string{msg.Code, msg.To, strings.TrimPrefix(msg.To, "+")}, also...) {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return strings.TrimSpace(s)
}

// Outcome is what a gateway's result code means for a send.
type Outcome int

// The outcomes of a result code. Temporary is the zero value, so that an
// unknown code is retried rather than dropped.
const (
	// Temporary: another attempt, or another provider, may succeed.
	Temporary Outcome = iota
	// Accepted: the gateway took the message.
	Accepted
	// Permanent: the gateway refused the number or the content for good.
	Permanent
	// Operator: the provider's configuration is wrong; logged and
	// temporary, since another provider may be configured correctly.
	Operator
)

// Template parameter sources, for the gateways that send a registered
// template filled with values of the message.
const (
	// ParamCode is the verification code.
	ParamCode = "code"
	// ParamMinutes is the code's lifetime in minutes.
	ParamMinutes = "minutes"
)

// ValidParam reports whether src is ParamCode or ParamMinutes.
func ValidParam(src string) bool { return src == ParamCode || src == ParamMinutes }

// ParamValue is the value of the template parameter source src for msg.
// Sources are checked when a provider is made, so anything but
// ParamMinutes is the code.
func ParamValue(src string, msg sms.Message) string {
	if src == ParamMinutes {
		return strconv.Itoa(msg.TTLMinutes)
	}
	return msg.Code
}

// The lengths of a receipt token: at least 128 bits of base64 or hex, at
// most what a callback URL carries comfortably.
const (
	MinReceiptToken = 24
	MaxReceiptToken = 128
)

// receiptTokenRE is what a receipt token may hold: characters that go in a
// URL query unescaped.
var receiptTokenRE = regexp.MustCompile(fmt.Sprintf(`^[A-Za-z0-9_-]{%d,%d}$`, MinReceiptToken, MaxReceiptToken))

// ValidReceiptToken reports whether tok can be a receipt token:
// MinReceiptToken to MaxReceiptToken letters, digits, "-" and "_" (so it
// is unguessable and needs no escaping in the callback URL).
func ValidReceiptToken(tok string) bool { return receiptTokenRE.MatchString(tok) }

// CheckReceiptTokenConfig is the configuration check of a provider's
// receipt_token, tok, for a gateway that does not sign its callbacks
// (CheckReceiptToken): none ("", receipts are then refused) or one that
// ValidReceiptToken accepts. The error reads "<kind>: ...", as the
// provider's other configuration errors.
func CheckReceiptTokenConfig(kind, tok string) error {
	if tok != "" && !ValidReceiptToken(tok) {
		return fmt.Errorf("%s: receipt_token must be %d to %d letters, digits, - and _", kind, MinReceiptToken, MaxReceiptToken)
	}
	return nil
}

// ReceiptTokenParam is the query parameter that carries a receipt token.
const ReceiptTokenParam = "token"

// CheckReceiptToken authenticates a receipt of a gateway that does not
// sign its callbacks (Huawei Cloud, Alibaba Cloud): the callback URL
// carries the provider's unguessable token, compared in constant time (of
// SHA-256 digests, so that not even the length leaks).
func CheckReceiptToken(want string, q url.Values) error {
	got := q[ReceiptTokenParam]
	if want == "" || len(got) != 1 {
		return sms.ErrReceiptAuth
	}
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got[0]))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return sms.ErrReceiptAuth
	}
	return nil
}
