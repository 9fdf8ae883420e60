package sender

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/captcha"
	"github.com/smscode/smscode/server/captcha/altcha"
	"github.com/smscode/smscode/server/captcha/slider"
	"github.com/smscode/smscode/server/jsonlog"
	"github.com/smscode/smscode/server/metrics"
	"github.com/smscode/smscode/server/otp"
	"github.com/smscode/smscode/server/phone"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/tracing/spans"
)

// Channel is what one application sends with: its captcha check, its SMS
// provider (a failover chain or a single provider), its message templates and
// its limits, already merged with the server's defaults.
type Channel struct {
	Captcha   captcha.Verifier
	Provider  sms.Provider
	Templates *sms.Templates
	Limits    Limits
	Pumping   Pumping
	// Domain, when set, adds the "@domain #code" line that browsers and
	// phones read to autofill the code.
	Domain string
}

// Deps are the collaborators of a Service.
type Deps struct {
	Apps   *apps.Registry
	Store  store.Store
	Hasher *otp.Hasher
	// Channels holds each application's Channel, keyed by apps.App.Scope().
	Channels map[string]Channel
	Log      *slog.Logger
	Metrics  *metrics.Metrics // may be nil
	// Slider issues and checks the built-in slider puzzles; nil turns the
	// captcha APIs off (404).
	Slider *slider.Slider
	// Altcha issues the proof-of-work challenges of applications whose
	// captcha kind is altcha; nil turns their challenge API off (404).
	Altcha *altcha.Altcha
	// TracerProvider records the captcha check's and the store's spans
	// (see tracing.go); nil: none.
	TracerProvider trace.TracerProvider
	// Audit receives one event per send and verify decision (audit.Trail);
	// nil: no audit trail.
	Audit Auditor
	// Deliveries records each accepted message for its delivery receipt
	// (receipts.Service); nil: none.
	Deliveries DeliveryTracker
}

// DeliveryTracker records a message its provider accepted, keyed by the
// provider's message id, for the delivery receipt (the tracker fills in
// the time and status, and logs its own failures: the SMS is sent).
type DeliveryTracker interface {
	Track(ctx context.Context, d store.Delivery)
}

// Service is the send pipeline. It is safe for concurrent use.
type Service struct {
	d      Deps
	tracer trace.Tracer
	// apps holds, for each registered application, what every request
	// needs and would otherwise rebuild: its store hash tag and its Channel.
	apps map[*apps.App]*appInfo
}

// appInfo is what Service keeps per application.
type appInfo struct {
	tag string // apps.Tag(scope), the hash tag of the application's keys
	ch  Channel
}

// New returns a Service. Every registered application needs a Channel with a
// captcha verifier, a provider and templates.
func New(d Deps) (*Service, error) {
	if d.Apps == nil || d.Store == nil || d.Hasher == nil {
		return nil, errors.New("sender: Apps, Store and Hasher are required")
	}
	all := d.Apps.Apps()
	infos := make(map[*apps.App]*appInfo, len(all))
	for _, a := range all {
		ch, ok := d.Channels[a.Scope()]
		if !ok || ch.Captcha == nil || ch.Provider == nil || ch.Templates == nil {
			return nil, fmt.Errorf("sender: application %q has no complete channel", a.ClientID)
		}
		infos[a] = &appInfo{tag: a.Tag(), ch: ch}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, tracer: spans.Tracer(d.TracerProvider, tracerScope), apps: infos}, nil
}

// releaseTimeout bounds the clean-up after a failed delivery; it runs even
// when the request's context is done, so that no valid code is left behind.
const releaseTimeout = 3 * time.Second

// Send sends a code to req.Mobile, or returns an *apierr.Error saying why
// nothing was sent. It returns only once a provider accepted the message.
func (s *Service) Send(ctx context.Context, req SendRequest) (_ SendResult, err error) {
	trail := auditEntry{typ: audit.TypeSend, caller: &req.Caller, scenario: req.Scenario}
	defer func() { s.record(&trail, err) }()
	app, info, num, err := s.resolve(req.Caller, req.Mobile, req.Scenario)
	if err != nil {
		return SendResult{}, s.refuse(ctx, req, "", err)
	}
	trail.num = num
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		// Both bounded: a registered client id, the spec's scenario enum.
		span.SetAttributes(AttrClientID.String(req.ClientID), AttrScenario.String(string(req.Scenario)))
	}
	ch := &info.ch
	ids := s.keyIDs(num)
	var binding string // what the token is bound to, for a verifier that binds
	if _, unbound := ch.Captcha.(captcha.Unbound); !unbound {
		binding = ids.binding()
	}
	cctx, span := s.startSpan(ctx, spanCaptcha)
	err = ch.Captcha.Verify(cctx, captcha.Request{
		Token: req.CaptchaToken, Mobile: binding, RemoteIP: req.RemoteIP,
		ClientID: req.ClientID, TenantID: req.TenantID,
	})
	s.countCaptcha(app, metrics.CaptchaStepToken, err)
	if err != nil {
		endSpan(span, "refused", err)
		return SendResult{}, s.refuse(ctx, req, "", err)
	}
	endSpan(span, "passed", nil)

	settings := app.CodeFor(req.Scenario)
	if _, ok := app.TestCode(num.E164); ok {
		// A test number: answered as sent, with nothing sent, charged or
		// stored (Verify knows its fixed code).
		trail.outcome = "test"
		s.d.Metrics.Send(req.ClientID, string(req.Scenario), "test", "")
		s.d.Log.LogAttrs(ctx, slog.LevelInfo, "sms not sent: test number",
			slog.String("request_id", req.RequestID), slog.String("client_id", req.ClientID),
			slog.String("scenario", string(req.Scenario)), slog.Attr{Key: "mobile", Value: num.LogValue()})
		return SendResult{ResendAfter: ch.Limits.NumberCooldown, ExpiresIn: settings.TTL}, nil
	}
	code, err := otp.Generate(settings.Length)
	if err != nil {
		return SendResult{}, s.refuse(ctx, req, "", err)
	}
	tag := info.tag
	// The prefix, once for both pumping rules (the volume rule's limit
	// here, the learning rule's step below).
	pfx := ids.pumpPrefixOf(ch.Pumping, num)
	key, limits, kinds := limitsFor(tag, ch.Limits, ch.Pumping, pfx, ids, req.Scenario, req.Caller)
	sreq := store.SendRequest{
		Limits: limits,
		Code: store.Code{Key: key, Hash: s.d.Hasher.Hash(key, code),
			TTL: settings.TTL, MaxAttempts: settings.MaxAttempts},
	}
	sctx, span := s.startSpan(ctx, spanReserve)
	res, err := s.d.Store.Reserve(sctx, sreq)
	if err != nil {
		err = apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
		endSpan(span, "error", err)
		return SendResult{}, s.refuse(ctx, req, "", err)
	}
	if !res.Allowed {
		kind := kinds[res.Refused]
		s.d.Metrics.Refusal(kind.name)
		err = apierr.Retry(kind.code, res.RetryAfter)
		setLimit(span, kind.name)
		endSpan(span, "refused", err)
		return SendResult{}, s.refuse(ctx, req, "", err)
	}
	endSpan(span, "reserved", nil)
	// The learning pumping defence (conversion.go), when on: one more
	// store step, after every limit allowed the send, so that only sends
	// that would go out are counted. A blocked prefix gives the
	// reservation back (no cooldown charged) and answers 429 SMS.0006.
	var cv conversion
	learning := ch.Pumping.learning()
	if learning {
		cv = conversionFor(tag, ch.Pumping, pfx)
		if err := s.conversionSend(ctx, req, num, cv); err != nil {
			s.release(sreq, res)
			return SendResult{}, s.refuse(ctx, req, "", err)
		}
	}

	text, lang := ch.Templates.Render(sms.RenderInput{
		Scenario: string(req.Scenario), Lang: req.Lang, DefaultLang: app.DefaultLang,
		Code: code, TTL: settings.TTL, Signature: app.Signature, Domain: ch.Domain,
	})
	msg := sms.Message{
		ID: newMessageID(), To: num.E164, Text: text, Code: code,
		TTLMinutes: sms.Minutes(settings.TTL), Scenario: string(req.Scenario), Lang: lang,
		ClientID: req.ClientID, TenantID: req.TenantID,
	}
	// The provider's latency is observed per attempt by the failover
	// chain (smscode_sms_provider_attempt_seconds), not here.
	receipt, err := ch.Provider.Send(ctx, msg)
	if err != nil {
		trail.provider = ch.Provider.Name()
		s.release(sreq, res)
		if learning {
			s.conversionUnsend(cv) // no SMS: not a code nobody verified
		}
		code := gen.ErrorCodeProviderUnavailable
		if errors.Is(err, sms.ErrPermanent) {
			code = gen.ErrorCodeProviderRejected
		}
		return SendResult{}, s.refuse(ctx, req, ch.Provider.Name(), apierr.Wrap(code, err))
	}
	trail.provider, trail.msgID = receipt.Provider, receipt.MessageID
	s.d.Metrics.Send(req.ClientID, string(req.Scenario), "sent", receipt.Provider)
	if s.d.Deliveries != nil {
		// No code and no number: the calling code is the parsed number's.
		s.d.Deliveries.Track(ctx, store.Delivery{Provider: receipt.Provider, MessageID: receipt.MessageID,
			ClientID: req.ClientID, Scenario: string(req.Scenario), CallingCode: strconv.Itoa(num.CallingCode)})
	}
	s.d.Metrics.CodeSent(req.ClientID, string(req.Scenario), num.CallingCode) // conversion's denominator
	if s.d.Log.Enabled(ctx, slog.LevelInfo) {
		jsonlog.LogAttrs(ctx, s.d.Log, slog.LevelInfo, "sms sent",
			slog.String("request_id", req.RequestID), slog.String("client_id", req.ClientID),
			slog.String("scenario", string(req.Scenario)), slog.Attr{Key: "mobile", Value: num.LogValue()},
			slog.String("provider", receipt.Provider), slog.String("provider_message_id", receipt.MessageID),
			slog.String("message_id", msg.ID))
	}
	return SendResult{
		ResendAfter: ch.Limits.NumberCooldown, ExpiresIn: settings.TTL,
		Provider: receipt.Provider, MessageID: receipt.MessageID,
	}, nil
}

// Verify checks req.Code against the last code sent to req.Mobile for
// req.Scenario. It returns nil when the code was right (it is now used up)
// and an *apierr.Error otherwise. The verification limits are checked in
// the same atomic store step as the code (see verifyLimitsFor): a full one
// refuses with 429 before the code is compared.
func (s *Service) Verify(ctx context.Context, req VerifyRequest) (err error) {
	trail := auditEntry{typ: audit.TypeVerify, caller: &req.Caller, scenario: req.Scenario}
	defer func() { s.record(&trail, err) }()
	app, info, num, err := s.resolve(req.Caller, req.Mobile, req.Scenario)
	if err != nil {
		return err
	}
	trail.num = num
	if want, ok := app.TestCode(num.E164); ok {
		// A test number's fixed code verifies as often as asked.
		name := "ok"
		if subtle.ConstantTimeCompare([]byte(want), []byte(req.Code)) != 1 {
			name, err = "wrong", apierr.New(gen.ErrorCodeCodeWrong)
		}
		trail.outcome = name
		s.d.Metrics.Verification(string(req.Scenario), name)
		return err
	}
	ids := s.keyIDs(num)
	key := codeKey(info.tag, req.Scenario, ids)
	ip, dev := clientIP(req.RemoteIP), ids.device(req.Fingerprint)
	limits, kinds := verifyLimitsFor(info.tag, info.ch.Limits, ids, ip, dev, app.CodeFor(req.Scenario).MaxAttempts)
	vctx, span := s.startSpan(ctx, spanVerify)
	res, err := s.d.Store.Verify(vctx, store.VerifyRequest{
		Key: key, Hash: s.d.Hasher.Hash(key, req.Code),
		Sources: verifySources(ip, dev), Limits: limits,
	})
	if err != nil {
		// Fail closed: nothing was compared, so nothing can be verified.
		err = apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
		endSpan(span, "error", err)
		return err
	}
	var name string
	switch res.Outcome {
	case store.VerifyRefused:
		kind := kinds[res.Refused]
		s.d.Metrics.Refusal(kind.name)
		setLimit(span, kind.name)
		name, err = "refused", apierr.Retry(kind.code, res.RetryAfter)
	case store.VerifyOK:
		name = "ok"
	case store.VerifyWrong:
		name, err = "wrong", apierr.New(gen.ErrorCodeCodeWrong)
	case store.VerifyTooManyAttempts:
		name, err = "too_many_attempts", apierr.New(gen.ErrorCodeCodeAttemptsExceeded)
	default:
		name, err = "not_found", apierr.New(gen.ErrorCodeCodeExpired)
	}
	endSpan(span, name, err)
	trail.outcome = name
	s.d.Metrics.Verification(string(req.Scenario), name)
	if res.Outcome == store.VerifyOK {
		// Conversion's numerator: the metric, and the learning pumping
		// defence's counters when it is on (conversion.go).
		s.d.Metrics.CodeVerified(req.ClientID, string(req.Scenario), num.CallingCode)
		if p := info.ch.Pumping; p.learning() {
			s.conversionVerified(ctx, conversionFor(info.tag, p, ids.pumpPrefixOf(p, num)))
		}
	}
	return err
}

// Ready reports whether the store can be reached.
func (s *Service) Ready(ctx context.Context) error { return s.d.Store.Ping(ctx) }

// resolve finds the application and its channel, checks the scenario, and
// parses the number under the application's phone policy.
func (s *Service) resolve(c Caller, mobile string, scenario gen.Scenario) (*apps.App, *appInfo, phone.Number, error) {
	app, err := s.d.Apps.Lookup(c.ClientID, c.TenantID)
	if err != nil {
		return nil, nil, phone.Number{}, err
	}
	if !scenario.Valid() || !app.Allows(scenario) {
		return nil, nil, phone.Number{}, apierr.New(gen.ErrorCodeScenarioUnsupported)
	}
	num, err := app.Phone.Parse(mobile)
	if err != nil {
		return nil, nil, phone.Number{}, err
	}
	return app, s.info(app), num, nil
}

// info returns what s keeps for app, computing it for an application that
// New did not see (the registry hands out the same *App values, so this is
// only a fallback).
func (s *Service) info(app *apps.App) *appInfo {
	if info, ok := s.apps[app]; ok {
		return info
	}
	scope := app.Scope()
	return &appInfo{tag: apps.Tag(scope), ch: s.d.Channels[scope]}
}

// refuse logs and counts a send that ended without an SMS, and returns err.
// The line is logged with the request's ctx (trace ids, when tracing).
func (s *Service) refuse(ctx context.Context, req SendRequest, provider string, err error) error {
	e := apierr.From(err)
	s.d.Metrics.Send(req.ClientID, string(req.Scenario), failureOutcome(e), provider)
	level := slog.LevelInfo
	if e.Status() >= 500 {
		level = slog.LevelWarn
	}
	// The cause may name a provider or store problem; it never holds the
	// code or a secret (providers and stores keep those out of errors).
	jsonlog.LogAttrs(ctx, s.d.Log, level, "sms not sent",
		slog.String("request_id", req.RequestID), slog.String("client_id", req.ClientID),
		slog.String("scenario", string(req.Scenario)), slog.String("error_code", string(e.Code)),
		slog.String("cause", causeOf(e)))
	return e
}

// failureOutcome names a request that ended with e: "failed" when the
// server could not decide (5xx: store, provider), else "refused". The
// metrics and the audit trail use the same words.
func failureOutcome(e *apierr.Error) string {
	if e.Status() >= 500 {
		return "failed"
	}
	return "refused"
}

// release undoes a reservation whose SMS was not delivered, so that no valid
// code is left behind and the number's cooldown is not charged.
func (s *Service) release(req store.SendRequest, res store.SendResult) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := s.d.Store.Release(ctx, req, res); err != nil {
		// The code stays stored but was never delivered, so nobody can know
		// it; it expires with its TTL. Worth an error log all the same.
		s.d.Log.Error("releasing an undelivered send failed", slog.String("error", err.Error()))
	}
}

// codeKey is the key of the code pending for a number and scenario, under
// the number's hash tag (with its cooldown and counts: see limitsFor).
func codeKey(tag string, scenario gen.Scenario, ids keyIDs) string {
	return entityKey(tag, entityNumber, ids.number, ":code:", string(scenario))
}

// keyIDs stands for a phone number in store keys and captcha bindings, so
// that a Redis dump or MONITOR shows no number: a keyed hash (HMAC-SHA256
// under the server secret, through the Hasher) of the number, and of its
// pumping prefix on demand. Unkeyed, the 10^10 mainland numbers could be
// hashed through in minutes; keyed, the ids say nothing without the secret.
type keyIDs struct {
	h      *otp.Hasher
	number string
}

// Domains of the keyed hashes: never a store key (codes are hashed under
// store keys, which start with "{"), so no id is ever a code's HMAC.
const (
	numberIDDomain = "smscode key id: number"
	prefixIDDomain = "smscode key id: prefix"
	bindingDomain  = "smscode key id: captcha binding"
	deviceIDDomain = "smscode key id: device fingerprint"
)

func (s *Service) keyIDs(num phone.Number) keyIDs {
	return keyIDs{h: s.d.Hasher, number: keyedID(s.d.Hasher, numberIDDomain, num.E164)}
}

// prefix is the id of a number prefix ("+86138").
func (ids keyIDs) prefix(p string) string { return keyedID(ids.h, prefixIDDomain, p) }

// device is the id of a device fingerprint (client-chosen, up to 128
// bytes): fixed-size, so clients cannot grow store keys, and keyed, so
// that whoever knows a device's fingerprint cannot find its keys.
func (ids keyIDs) device(fp string) string { return keyedID(ids.h, deviceIDDomain, fp) }

// appendDevice appends device(fp) to b.
func (ids keyIDs) appendDevice(b []byte, fp string) []byte {
	return appendKeyedID(b, ids.h, deviceIDDomain, fp)
}

// binding is what a captcha token is bound to: the number's id under a
// domain of its own, which the captcha store keeps in its records.
func (ids keyIDs) binding() string { return keyedID(ids.h, bindingDomain, ids.number) }

// keyedID is the first 128 bits of HMAC(secret, domain, value), in hex:
// collisions need 2^64 numbers, and key names stay short.
func keyedID(h *otp.Hasher, domain, value string) string {
	var buf [32]byte
	return string(appendKeyedID(buf[:0], h, domain, value))
}

// appendKeyedID appends keyedID(h, domain, value) to b.
func appendKeyedID(b []byte, h *otp.Hasher, domain, value string) []byte {
	var sum [32]byte
	h.HashTo(&sum, domain, value)
	return hex.AppendEncode(b, sum[:16])
}

func causeOf(e *apierr.Error) string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	var out [32]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}
