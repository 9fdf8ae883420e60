package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/smscode/smscode/server/sms"
)

var _ sms.ReceiptReader = (*Provider)(nil)

// HeaderSignature is the header of Twilio's webhook signature.
const HeaderSignature = "X-Twilio-Signature"

// Signature is Twilio's webhook signature of a POST to rawURL with the form
// params: base64(HMAC-SHA1(auth token, the URL followed by each parameter's
// name and value, parameters sorted by name)), as Twilio's "Webhooks
// security" documentation and its helper libraries (twilio-go's
// RequestValidator) compute it.
func Signature(authToken, rawURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(rawURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ValidSignature reports whether sig is Twilio's signature of a POST of
// params to rawURL, or to its other spelling (urlSpellings): Twilio has
// signed with and without the port (as twilio-go's validator notes).
func ValidSignature(authToken, rawURL string, params url.Values, sig string) bool {
	return validSignature(authToken, urlSpellings(rawURL), params, sig)
}

// validSignature reports whether sig is Twilio's signature of a POST of
// params to one of urls (the spellings of one URL, urlSpellings).
func validSignature(authToken string, urls []string, params url.Values, sig string) bool {
	if sig == "" {
		return false
	}
	got := []byte(sig)
	for _, u := range urls {
		if hmac.Equal([]byte(Signature(authToken, u, params)), got) {
			return true
		}
	}
	return false
}

// urlSpellings is rawURL and one other spelling, as Twilio's helper
// libraries check a signature (twilio-go's RequestValidator): without a
// port, rawURL with its scheme's default port added; with any port, rawURL
// with the port removed. A Provider works its StatusCallback's out once, in
// New: it is configuration, the same for every receipt.
func urlSpellings(rawURL string) []string {
	out := []string{rawURL}
	u, err := url.Parse(rawURL)
	if err != nil {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	switch port := u.Port(); {
	case port == "" && def != "":
		v := *u
		v.Host = u.Host + ":" + def
		out = append(out, v.String())
	case port != "":
		v := *u
		v.Host = u.Hostname()
		out = append(out, v.String())
	}
	return out
}

// ReadReceipt implements sms.ReceiptReader: a form-encoded status
// callback (MessageSid, MessageStatus, ErrorCode, ...) signed with
// X-Twilio-Signature over the StatusCallback URL this provider gave Twilio
// (either of its spellings, p.callbacks).
func (p *Provider) ReadReceipt(r sms.ReceiptRequest) ([]sms.StatusReport, error) {
	if len(p.callbacks) == 0 {
		return nil, fmt.Errorf("%s: no status_callback configured: %w", p.cfg.Name, sms.ErrReceiptAuth)
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, fmt.Errorf("%s: receipt: not a form: %w", p.cfg.Name, sms.ErrReceiptMalformed)
	}
	if !validSignature(p.cfg.AuthToken, p.callbacks, form, r.Header.Get(HeaderSignature)) {
		return nil, fmt.Errorf("%s: receipt: %w", p.cfg.Name, sms.ErrReceiptAuth)
	}
	return ParseStatusCallback(form)
}

// ParseStatusCallback reads the message sid and status of a status
// callback (already authenticated).
func ParseStatusCallback(form url.Values) ([]sms.StatusReport, error) {
	sid := form.Get("MessageSid")
	if sid == "" {
		sid = form.Get("SmsSid")
	}
	status, ok := callbackStatuses[form.Get("MessageStatus")]
	if !sms.ValidMessageID(sid) || !ok {
		return nil, fmt.Errorf("twilio: receipt without a valid MessageSid and MessageStatus: %w", sms.ErrReceiptMalformed)
	}
	return []sms.StatusReport{{MessageID: sid, Status: status}}, nil
}

// callbackStatuses maps Twilio's MessageStatus values: delivered (and
// read, for channels that report it) are delivered; undelivered, failed
// and canceled are failed; the others are on the way.
var callbackStatuses = map[string]sms.Status{
	"accepted": sms.StatusInterim, "scheduled": sms.StatusInterim, "queued": sms.StatusInterim,
	"sending": sms.StatusInterim, "sent": sms.StatusInterim, "receiving": sms.StatusInterim,
	"received": sms.StatusInterim, "partially_delivered": sms.StatusInterim,
	"delivered": sms.StatusDelivered, "read": sms.StatusDelivered,
	"undelivered": sms.StatusFailed, "failed": sms.StatusFailed, "canceled": sms.StatusFailed,
}

// ReceiptAck implements sms.ReceiptReader: Twilio takes any 2xx.
func (p *Provider) ReceiptAck() (string, []byte) { return "", nil }

// TakesReceipts implements sms.ReceiptReader.
func (p *Provider) TakesReceipts() bool { return len(p.callbacks) != 0 }
