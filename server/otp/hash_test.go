package otp_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"

	"github.com/smscode/smscode/server/otp"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, otp.MinSecretLen) }

func mustHasher(t testing.TB, s []byte) *otp.Hasher {
	t.Helper()
	h, err := otp.NewHasher(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewHasherSecretLength(t *testing.T) {
	for _, n := range []int{0, 16, 31} {
		if _, err := otp.NewHasher(make([]byte, n)); !errors.Is(err, otp.ErrShortSecret) {
			t.Errorf("NewHasher(%d bytes) error = %v, want ErrShortSecret", n, err)
		}
	}
	for _, n := range []int{32, 64} {
		if _, err := otp.NewHasher(make([]byte, n)); err != nil {
			t.Errorf("NewHasher(%d bytes): %v", n, err)
		}
	}
}

func TestHashIsTheDocumentedHMAC(t *testing.T) {
	s := secret(7)
	m := hmac.New(sha256.New, s)
	m.Write([]byte("app/+8613812345678/LOGIN_SMS\x00123456"))
	want := m.Sum(nil)
	if got := mustHasher(t, s).Hash("app/+8613812345678/LOGIN_SMS", "123456"); !bytes.Equal(got, want) {
		t.Fatalf("Hash = %x, want %x", got, want)
	}
}

func TestHash(t *testing.T) {
	a := mustHasher(t, secret(1))
	base := a.Hash("k", "123456")
	tests := []struct {
		name     string
		got      []byte
		wantSame bool
	}{
		{"same inputs", a.Hash("k", "123456"), true},
		{"same secret, another hasher", mustHasher(t, secret(1)).Hash("k", "123456"), true},
		{"other key", a.Hash("k2", "123456"), false},
		{"other code", a.Hash("k", "123457"), false},
		{"other secret", mustHasher(t, secret(2)).Hash("k", "123456"), false},
		{"separator keeps key and code apart", a.Hash("k1", "23456"), false},
	}
	for _, tt := range tests {
		if same := bytes.Equal(tt.got, base); same != tt.wantSame {
			t.Errorf("%s: equal = %v, want %v", tt.name, same, tt.wantSame)
		}
	}
	if len(base) != sha256.Size {
		t.Errorf("hash is %d bytes", len(base))
	}
	if !a.Equal("k", "123456", base) || a.Equal("k", "000000", base) || a.Equal("k", "123456", base[:31]) {
		t.Error("Equal disagrees with Hash")
	}
}

// TestNewHasherCopiesSecret: the caller may wipe or reuse its slice.
func TestNewHasherCopiesSecret(t *testing.T) {
	s := secret(3)
	h := mustHasher(t, s)
	before := h.Hash("k", "1234")
	clear(s)
	if !bytes.Equal(h.Hash("k", "1234"), before) {
		t.Fatal("changing the caller's secret changed the hash")
	}
}

func TestHashConcurrent(t *testing.T) {
	h := mustHasher(t, secret(4))
	want := h.Hash("k", "1234")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if !bytes.Equal(h.Hash("k", "1234"), want) {
					t.Error("concurrent Hash differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

// HashTo writes what Hash returns, and allocates nothing.
func TestHashTo(t *testing.T) {
	h, err := otp.NewHasher(bytes.Repeat([]byte{7}, otp.MinSecretLen))
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	for _, in := range [][2]string{{"a", "123456"}, {"", ""}, {"smscode key id: number", "+8613812345678"}} {
		h.HashTo(&sum, in[0], in[1])
		if !bytes.Equal(sum[:], h.Hash(in[0], in[1])) {
			t.Errorf("HashTo(%q, %q) = %x, Hash %x", in[0], in[1], sum, h.Hash(in[0], in[1]))
		}
	}
	if raceEnabled {
		return
	}
	if n := testing.AllocsPerRun(100, func() { h.HashTo(&sum, "smscode key id: number", "+8613812345678") }); n != 0 {
		t.Errorf("HashTo allocates %v times", n)
	}
}
