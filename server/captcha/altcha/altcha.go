// Package altcha is the built-in proof-of-work captcha: challenges in the
// format of the ALTCHA widget (npm altcha 2.x, "PoW v1"), issued and checked
// by this server, with no image and no third party.
//
// A challenge is
//
//	{algorithm: "SHA-256", challenge, maxnumber, salt, signature}
//
// where salt is random hex followed by "?expires=<unix seconds>&",
// challenge = hex(SHA-256(salt + number)) for a secret number in
// [0, maxnumber], and signature = hex(HMAC-SHA256(key, challenge)). The
// widget finds the number by brute force and sends back the base64 of the
// JSON {algorithm, challenge, number, salt, signature, took}, which the
// client passes as captcha_token. The HMAC key is derived per application
// from the server's key, so a challenge of one application never passes for
// another; the expiry rides in the salt, which the challenge hash covers.
//
// Issuing writes nothing to the store (a flood of challenges costs one HMAC
// each); a challenge is recorded as spent at its first answer, right or
// wrong, until it expires, so that it takes one try and a solution works
// once across every instance sharing the store.
package altcha

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/captcha"
)

// Algorithm is the only hash this server issues and accepts.
const Algorithm = "SHA-256"

// Defaults and bounds of Config and of the per-application difficulty.
const (
	// DefaultMaxNumber is the default difficulty: a solver tries half of
	// it on average, about 50,000 SHA-256 hashes (see README for what that
	// costs a browser and a bot).
	DefaultMaxNumber = 100_000
	// MinMaxNumber and MaxMaxNumber bound the difficulty: below 1,000 the
	// work is nothing; above 100 million a phone would take minutes.
	MinMaxNumber = 1_000
	MaxMaxNumber = 100_000_000
	// DefaultTTL is how long a challenge can be solved and its solution
	// spent.
	DefaultTTL = 5 * time.Minute
)

// saltBytes is the salt's randomness: 96 bits, as altcha-lib's default.
const saltBytes = 12

// spentGrace is how long past its expiry a spent challenge is remembered:
// clock skew between instances must not reopen a replay window.
const spentGrace = time.Minute

// Config configures an Altcha. Zero values mean the defaults.
type Config struct {
	// Key is the secret the per-application HMAC keys are derived from, at
	// least 16 bytes. Required.
	Key []byte
	// TTL is how long a challenge stays good. Default DefaultTTL.
	TTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Altcha issues and verifies challenges. It is safe for concurrent use.
// *Altcha is a captcha.Verifier for the send pipeline.
type Altcha struct {
	key   []byte
	ttl   time.Duration
	now   func() time.Time
	spent captcha.UseOncer
}

var _ captcha.Verifier = (*Altcha)(nil)

// New returns an Altcha that records spent solutions in u (the shared
// store), or an error when the key is short or u is nil.
func New(cfg Config, u captcha.UseOncer) (*Altcha, error) {
	switch {
	case len(cfg.Key) < 16:
		return nil, errors.New("altcha: a key of at least 16 bytes is required")
	case u == nil:
		return nil, errors.New("altcha: a store is required")
	case cfg.TTL < 0:
		return nil, errors.New("altcha: TTL must not be negative")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The derived master key, not the server secret itself, is kept: the
	// secret's other uses (code hashes) never share a key with this one.
	m := hmac.New(sha256.New, cfg.Key)
	m.Write([]byte("smscode altcha v1"))
	return &Altcha{key: m.Sum(nil), ttl: cfg.TTL, now: cfg.Now, spent: u}, nil
}

// Challenge is what the widget's challengeurl returns.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// HMACKey is the key that signs the challenges of the application of
// scope (apps.Scope): hex(HMAC-SHA256(master, scope)). It is a string
// because altcha-lib takes its hmacKey as text; a server written with
// altcha-lib given this key would issue and accept the same challenges.
func (a *Altcha) HMACKey(scope string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(scope))
	return hex.EncodeToString(m.Sum(nil))
}

// Issue returns a new challenge for the application of scope with
// difficulty maxNumber (DefaultMaxNumber when 0; it must be within
// MinMaxNumber..MaxMaxNumber).
func (a *Altcha) Issue(scope string, maxNumber int64) (Challenge, error) {
	if maxNumber == 0 {
		maxNumber = DefaultMaxNumber
	}
	if maxNumber < MinMaxNumber || maxNumber > MaxMaxNumber {
		return Challenge{}, apierr.Wrap(gen.ErrorCodeInternal, fmt.Errorf("altcha: maxnumber %d is outside %d..%d", maxNumber, MinMaxNumber, MaxMaxNumber))
	}
	var b [saltBytes + 8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Challenge{}, apierr.Wrap(gen.ErrorCodeInternal, err)
	}
	// The number is uniform in [0, maxNumber]: the modulo bias of a 64-bit
	// value over at most 1e8 is below 1e-10.
	var r uint64
	for _, c := range b[saltBytes:] {
		r = r<<8 | uint64(c)
	}
	number := int64(r % uint64(maxNumber+1))
	expires := a.now().Add(a.ttl).Unix()
	salt := hex.EncodeToString(b[:saltBytes]) + "?expires=" + strconv.FormatInt(expires, 10) + "&"
	ch := hashHex(salt, number)
	return Challenge{
		Algorithm: Algorithm,
		Challenge: ch,
		MaxNumber: maxNumber,
		Salt:      salt,
		Signature: a.sign(scope, ch),
	}, nil
}

// sign is hex(HMAC-SHA256(HMACKey(scope), challenge)), as altcha-lib signs.
func (a *Altcha) sign(scope, challenge string) string {
	return signWith(a.HMACKey(scope), challenge)
}

// signWith is altcha-lib's hmacHex("SHA-256", challenge, key).
func signWith(key, challenge string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}

// hashHex is hex(SHA-256(salt + decimal number)), the widget's work unit.
func hashHex(salt string, number int64) string {
	buf := make([]byte, 0, len(salt)+20)
	buf = append(buf, salt...)
	buf = strconv.AppendInt(buf, number, 10)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// SpentKey is the store key that marks the challenge of scope as spent.
// The challenge is a SHA-256 digest already: the key reveals nothing.
func SpentKey(scope, challenge string) string {
	return apps.Tag(scope) + ":altcha:spent:" + challenge
}

// Verify checks the widget's payload in req.Token for the application of
// req.ClientID/TenantID and spends its challenge, whether the number is
// right or not. Errors: CAPTCHA.0004 malformed, signed by another key
// (forged, or another application's) or already tried; CAPTCHA.0003
// expired; CAPTCHA.0002 the number does not solve the challenge; SYS.0002
// the store cannot answer (fail closed).
func (a *Altcha) Verify(ctx context.Context, req captcha.Request) error {
	p, err := ParsePayload(req.Token)
	if err != nil {
		return apierr.Wrap(gen.ErrorCodeCaptchaInvalid, err)
	}
	scope := apps.Scope(req.ClientID, req.TenantID)
	// The signature first: what the server did not sign is "unknown",
	// whatever else is wrong with it. Both sides are 64 hex digits
	// (ParsePayload checked), compared in constant time.
	if !hmac.Equal([]byte(a.sign(scope, p.Challenge)), []byte(p.Signature)) {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	now := a.now()
	expires := time.Unix(p.Expires, 0)
	if !now.Before(expires) {
		return apierr.New(gen.ErrorCodeCaptchaExpired)
	}
	// Spent before the work is checked, as the slider spends a puzzle on
	// any answer: a challenge takes one try, so that a client cannot make
	// the server search for the number one request at a time. Only signed
	// challenges get here: the store holds no key the server did not make.
	first, err := a.spent.UseOnce(ctx, SpentKey(scope, p.Challenge), expires.Sub(now)+spentGrace)
	if err != nil {
		return apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
	}
	if !first {
		return apierr.New(gen.ErrorCodeCaptchaInvalid)
	}
	if !hmac.Equal([]byte(hashHex(p.Salt, p.Number)), []byte(p.Challenge)) {
		return apierr.New(gen.ErrorCodeCaptchaWrong)
	}
	return nil
}
