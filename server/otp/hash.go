package otp

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// MinSecretLen is the shortest HMAC secret accepted, in bytes: as long as
// the SHA-256 output, so the key is never the weak part.
const MinSecretLen = 32

// ErrShortSecret is wrapped by the errors of NewHasher, ParseSecret and
// LoadOrCreateSecret for a secret under MinSecretLen bytes.
var ErrShortSecret = errors.New("otp: secret too short")

// Hasher computes the hashes under which codes are stored. It is safe for
// concurrent use.
type Hasher struct {
	// pool holds HMAC states keyed with the secret, each with a scratch
	// buffer: hmac.New costs two SHA-256 blocks of key setup and several
	// allocations, Reset costs none.
	pool sync.Pool
}

type macState struct {
	mac hash.Hash
	buf []byte
	// sum receives the MAC: a slice passed to the hash.Hash escapes, so
	// it is the pooled state's, not the caller's.
	sum [sha256.Size]byte
}

// NewHasher returns a Hasher keyed with secret, which must be at least
// MinSecretLen bytes. The secret is copied.
func NewHasher(secret []byte) (*Hasher, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrShortSecret, len(secret), MinSecretLen)
	}
	key := append([]byte(nil), secret...)
	h := &Hasher{}
	h.pool.New = func() any { return &macState{mac: hmac.New(sha256.New, key)} }
	return h, nil
}

// Hash returns HMAC-SHA256(secret, key || 0x00 || code), 32 bytes.
//
// key names what the code was sent for (application, number, scenario), so
// that a stored hash only matches the same code asked for the same thing,
// and a leaked store cannot be checked against codes offline without the
// secret. The 0x00 separator keeps the pair unambiguous as long as code
// holds no NUL byte, which a code of digits never does.
func (h *Hasher) Hash(key, code string) []byte {
	sum := make([]byte, sha256.Size)
	h.HashTo((*[sha256.Size]byte)(sum), key, code)
	return sum
}

// HashTo writes Hash(key, code) to sum, for callers that keep only part of
// it or a text of it, without the allocation of Hash's slice.
func (h *Hasher) HashTo(sum *[sha256.Size]byte, key, code string) {
	st := h.pool.Get().(*macState)
	st.buf = append(append(append(st.buf[:0], key...), 0), code...)
	st.mac.Reset()
	st.mac.Write(st.buf)
	*sum = [sha256.Size]byte(st.mac.Sum(st.sum[:0]))
	if cap(st.buf) <= 1024 { // keep no huge buffer from an odd caller
		h.pool.Put(st)
	}
}

// Equal reports, in constant time, whether sum is the hash of code under
// key.
func (h *Hasher) Equal(key, code string, sum []byte) bool {
	return hmac.Equal(h.Hash(key, code), sum)
}
