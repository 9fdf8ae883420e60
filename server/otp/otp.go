// Package otp makes one-time codes and the keyed hashes under which they are
// stored: codes are drawn from crypto/rand, and only an HMAC-SHA256 of a code,
// bound to the key it was sent under, is ever kept.
package otp

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// MinLength and MaxLength bound the length of a code. Below 4 digits a
// guesser needs too few tries; above 10 users mistype, and phones stop
// offering to autofill.
const (
	MinLength = 4
	MaxLength = 10
)

// ErrLength is wrapped by Generate's error for a length outside
// MinLength..MaxLength.
var ErrLength = errors.New("otp: code length out of range")

// Generate returns a code of length decimal digits (leading zeros kept),
// every digit uniform and independent.
//
// Each digit comes from one random byte; bytes of 250 and above are thrown
// away, because 256 is not a multiple of 10 and "b % 10" would otherwise
// make 0-5 slightly likelier than 6-9.
func Generate(length int) (string, error) {
	if length < MinLength || length > MaxLength {
		return "", fmt.Errorf("%w: %d (want %d to %d)", ErrLength, length, MinLength, MaxLength)
	}
	var out [MaxLength]byte
	// 16 spare bytes: a byte is rejected with probability 6/256, so one
	// read almost always suffices.
	var buf [MaxLength + 16]byte
	n := 0
	for n < length {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("otp: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if b >= 250 {
				continue
			}
			out[n] = '0' + b%10
			n++
			if n == length {
				break
			}
		}
	}
	return string(out[:length]), nil
}
