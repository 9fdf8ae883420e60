package altcha

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds of a payload, checked before anything is decoded. The widget's
// payload is about 330 base64 characters (a 64-digit challenge and
// signature, a salt of about 45 characters, a number and "took").
const (
	// MaxPayload is the longest captcha_token read as a payload.
	MaxPayload = 1024
	// maxSalt is the longest salt: 24 hex digits and "?expires=<12 digits>&"
	// in ours, with room.
	maxSalt = 128
	// maxNumberDigits bounds the number: MaxMaxNumber has 9 digits.
	maxNumberDigits = 10
)

// Payload is the widget's answer, decoded.
type Payload struct {
	Algorithm string
	Challenge string
	Number    int64
	Salt      string
	Signature string
	// Expires is the salt's expires parameter, Unix seconds.
	Expires int64
}

// wirePayload is the JSON inside the base64. Number is kept raw so that
// only a plain non-negative integer is accepted (not 1e3, 7.0 or "7"): the
// hash covers its decimal text, which must be the one the widget hashed.
type wirePayload struct {
	Algorithm string          `json:"algorithm"`
	Challenge string          `json:"challenge"`
	Number    json.RawMessage `json:"number"`
	Salt      string          `json:"salt"`
	Signature string          `json:"signature"`
}

// ParsePayload decodes a captcha_token as the widget's payload and checks
// its shape: at most MaxPayload characters of standard base64, a JSON
// object with algorithm SHA-256, a 64-hex-digit challenge and signature, a
// number of at most 10 digits, and a salt of this server's shape (hex,
// then "?expires=<digits>&"). It does not check the signature, the work or
// the expiry (Verify does).
func ParsePayload(token string) (Payload, error) {
	if token == "" || len(token) > MaxPayload {
		return Payload{}, fmt.Errorf("altcha: payload of %d bytes, want 1 to %d", len(token), MaxPayload)
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return Payload{}, errors.New("altcha: payload is not base64")
	}
	var w wirePayload
	if err := json.Unmarshal(raw, &w); err != nil {
		return Payload{}, errors.New("altcha: payload is not a JSON object")
	}
	if w.Algorithm != Algorithm {
		return Payload{}, errors.New("altcha: algorithm is not SHA-256")
	}
	if !lowerHex(w.Challenge, 64) || !lowerHex(w.Signature, 64) {
		return Payload{}, errors.New("altcha: challenge and signature must be 64 lowercase hex digits")
	}
	num := string(w.Number)
	if num == "" || len(num) > maxNumberDigits || !allDigits(num) || (len(num) > 1 && num[0] == '0') {
		return Payload{}, errors.New("altcha: number is not a plain non-negative integer")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return Payload{}, errors.New("altcha: number out of range")
	}
	expires, err := parseSalt(w.Salt)
	if err != nil {
		return Payload{}, err
	}
	return Payload{
		Algorithm: w.Algorithm, Challenge: w.Challenge, Number: n,
		Salt: w.Salt, Signature: w.Signature, Expires: expires,
	}, nil
}

// parseSalt checks that salt has the shape Issue gives and returns its
// expires parameter.
func parseSalt(salt string) (int64, error) {
	bad := errors.New("altcha: salt is not hex?expires=<unix seconds>&")
	if len(salt) > maxSalt {
		return 0, bad
	}
	random, params, ok := strings.Cut(salt, "?expires=")
	if !ok || !lowerHex(random, -1) {
		return 0, bad
	}
	digits, ok := strings.CutSuffix(params, "&")
	if !ok || digits == "" || len(digits) > 12 || !allDigits(digits) {
		return 0, bad
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, bad
	}
	return v, nil
}

// lowerHex reports whether s is lowercase hex digits, n of them (any
// non-zero number when n < 0).
func lowerHex(s string, n int) bool {
	if (n >= 0 && len(s) != n) || s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Solve finds the number of c by brute force, as the widget does, and
// returns the widget's payload (base64 JSON) and how many hashes it took.
// It exists for tests, examples and the attack suite: it is what a bot
// pays per send. ok is false when no number up to MaxNumber solves c.
func Solve(c Challenge) (payload string, hashes int64, ok bool) {
	want, err := hex.DecodeString(c.Challenge)
	if err != nil || len(want) != sha256.Size {
		return "", 0, false
	}
	// As fast as a plain Go bot would be: one buffer, raw digests.
	buf := make([]byte, 0, len(c.Salt)+20)
	for n := int64(0); n <= c.MaxNumber; n++ {
		buf = strconv.AppendInt(append(buf[:0], c.Salt...), n, 10)
		if sum := sha256.Sum256(buf); string(sum[:]) == string(want) {
			return EncodePayload(c, n), n + 1, true
		}
	}
	return "", c.MaxNumber + 1, false
}

// EncodePayload is the widget's payload for challenge c answered with
// number: base64(JSON{algorithm, challenge, number, salt, signature, took}).
func EncodePayload(c Challenge, number int64) string {
	b, _ := json.Marshal(struct { // strings and ints: cannot fail
		Algorithm string `json:"algorithm"`
		Challenge string `json:"challenge"`
		Number    int64  `json:"number"`
		Salt      string `json:"salt"`
		Signature string `json:"signature"`
		Took      int64  `json:"took"`
	}{c.Algorithm, c.Challenge, number, c.Salt, c.Signature, 0})
	return base64.StdEncoding.EncodeToString(b)
}
