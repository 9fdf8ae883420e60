package slider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// tokenBytes is the puzzle token's entropy: 128 bits, beyond guessing.
const tokenBytes = 16

// newToken returns a fresh puzzle token: tokenBytes random bytes in
// lowercase hex, the shape of AJ-Captcha's dashless UUIDs.
func newToken() (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// validToken reports whether s has the shape newToken gives.
func validToken(s string) bool {
	if len(s) != 2*tokenBytes {
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

// puzzleRecord is a puzzle's answer as stored: the hole's top-left corner
// and when the puzzle was issued (Unix nanoseconds), so that a late answer
// is told apart from an unknown one.
type puzzleRecord struct {
	X      int   `json:"x"`
	Y      int   `json:"y"`
	Issued int64 `json:"t"`
}

// issued is when the puzzle was issued.
func (r puzzleRecord) issued() time.Time { return time.Unix(0, r.Issued) }

func (r puzzleRecord) encode() []byte {
	b, _ := json.Marshal(r) // ints only: cannot fail
	return b
}

func decodePuzzle(b []byte) (puzzleRecord, error) {
	var r puzzleRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("slider: stored puzzle: %w", err)
	}
	return r, nil
}

// verifiedRecord is a verified captcha_token as stored: the sender it is
// good for, the point_json it was verified with, and when (Unix
// nanoseconds).
type verifiedRecord struct {
	Sender   string `json:"s"`
	Point    string `json:"p"`
	Verified int64  `json:"t"`
}

// verified is when the token was verified.
func (r verifiedRecord) verified() time.Time { return time.Unix(0, r.Verified) }

func (r verifiedRecord) encode() []byte {
	b, _ := json.Marshal(r) // strings and ints only: cannot fail
	return b
}

func decodeVerified(b []byte) (verifiedRecord, error) {
	var r verifiedRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("slider: stored token: %w", err)
	}
	return r, nil
}

// parsePoint reads x from point_json, strictly: at most maxPointJSON bytes
// of printable ASCII (the captcha_token it becomes part of must be), one
// JSON object with a number x and optionally a number y, nothing else.
func parsePoint(s string) (float64, error) {
	if len(s) > maxPointJSON {
		return 0, fmt.Errorf("slider: point_json longer than %d bytes", maxPointJSON)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return 0, errors.New("slider: point_json is not printable ASCII")
		}
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var p struct {
		X *float64 `json:"x"`
		Y *float64 `json:"y"`
	}
	if err := dec.Decode(&p); err != nil {
		return 0, fmt.Errorf("slider: point_json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return 0, errors.New("slider: point_json has data after the object")
	}
	if p.X == nil { // also the case of "null", which decodes to nothing
		return 0, errors.New("slider: point_json has no x")
	}
	return *p.X, nil
}

// PeekAnswer returns the x of the hole of a pending puzzle without spending
// the puzzle (it takes the record and puts it back). It exists for tests
// that solve puzzles through the public API, as a person would by eye; the
// server never calls it.
func PeekAnswer(ctx context.Context, k Keeper, scope, token string) (int, error) {
	key := PuzzleKey(scope, token)
	b, ok, err := k.Take(ctx, key)
	if err != nil || !ok {
		return 0, fmt.Errorf("slider: no pending puzzle %q (%v)", token, err)
	}
	r, err := decodePuzzle(b)
	if err != nil {
		return 0, err
	}
	// The record holds its issue time, which Check compares itself; the
	// store's TTL only needs to outlive it.
	if err := k.Put(ctx, key, b, DefaultPuzzleTTL+expiredGrace); err != nil {
		return 0, err
	}
	return r.X, nil
}
