package otp_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/smscode/smscode/server/otp"
)

func TestParseSecret(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i*37 + 250) // includes bytes that make + / - _ in base64
	}
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string
	}{
		{"hex", hex.EncodeToString(raw), raw, ""},
		{"hex upper case, newline", strings.ToUpper(hex.EncodeToString(raw)) + "\n", raw, ""},
		{"base64", base64.StdEncoding.EncodeToString(raw), raw, ""},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString(raw), raw, ""},
		{"base64 URL", base64.URLEncoding.EncodeToString(raw), raw, ""},
		{"base64 URL unpadded, spaces", "  " + base64.RawURLEncoding.EncodeToString(raw) + " ", raw, ""},
		{"64 bytes", hex.EncodeToString(append(raw, raw...)), append(raw, raw...), ""},
		{"empty", "", nil, "empty"},
		{"blank", " \n", nil, "empty"},
		{"short hex", hex.EncodeToString(raw[:31]), nil, "too short"},
		{"short base64", base64.StdEncoding.EncodeToString(raw[:16]), nil, "too short"},
		{"neither", "not a secret!", nil, "neither hex nor base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := otp.ParseSecret(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSecret error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseSecret = %x, %v; want %x", got, err, tt.want)
			}
		})
	}
}

func TestParseSecretErrorHidesSecret(t *testing.T) {
	const s = "abcd0123" // short hex
	_, err := otp.ParseSecret(s)
	if !errors.Is(err, otp.ErrShortSecret) || strings.Contains(err.Error(), s) {
		t.Fatalf("error %v", err)
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "otp.secret")

	first, err := otp.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != otp.MinSecretLen {
		t.Fatalf("created secret is %d bytes", len(first))
	}
	if _, err := otp.NewHasher(first); err != nil {
		t.Fatalf("created secret is not usable: %v", err)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, path, 0o600)
		assertMode(t, dir, 0o700)
	}
	again, err := otp.LoadOrCreateSecret(path)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("second load = %x, %v; want the first secret %x", again, err, first)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d files, want only the secret", len(entries))
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}

func TestLoadOrCreateSecretReadsExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	want := bytes.Repeat([]byte{0xab}, 48)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(want)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := otp.LoadOrCreateSecret(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("LoadOrCreateSecret = %x, %v", got, err)
	}
}

func TestLoadOrCreateSecretRefusesBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := otp.LoadOrCreateSecret(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error = %v, want one naming the file", err)
	}
	// A bad file is reported, never replaced.
	if b, _ := os.ReadFile(path); string(b) != "short" {
		t.Fatalf("file was rewritten to %q", b)
	}
}

// TestLoadOrCreateSecretConcurrent: servers starting together agree on one
// secret.
func TestLoadOrCreateSecretConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	const n = 8
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = otp.LoadOrCreateSecret(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("caller %d got %x, %v; caller 0 got %x", i, got[i], errs[i], got[0])
		}
	}
}
