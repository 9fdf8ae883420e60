package otp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParseSecret decodes a secret given in configuration or the environment:
// hex, or base64 (standard or URL alphabet, padded or not), with surrounding
// white space ignored. Hex is tried first, so a string that is valid as both
// is read as hex. The decoded secret must be at least MinSecretLen bytes.
//
// Errors never include the secret itself.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("otp: secret is empty")
	}
	b, err := decodeSecret(s)
	if err != nil {
		return nil, err
	}
	if len(b) < MinSecretLen {
		return nil, fmt.Errorf("%w: %d bytes decoded, want at least %d (generate one with: openssl rand -hex 32)",
			ErrShortSecret, len(b), MinSecretLen)
	}
	return b, nil
}

func decodeSecret(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("otp: secret is neither hex nor base64")
}

// LoadOrCreateSecret returns the secret kept in the file at path, for
// development: it reads the file if it exists (hex or base64, as
// ParseSecret), and otherwise creates it with MinSecretLen random bytes in
// hex, mode 0600, creating missing directories with mode 0700. Codes hashed
// before a restart stay checkable after it.
//
// Creation is atomic: the secret is written to a temporary file and linked
// into place only if no file is there yet, so two servers starting at once
// end up with the same secret and never read a half-written file.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	if err := create(path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("otp: creating secret file: %w", err)
	}
	// Read back what is in place, which is another process's secret if it
	// won the race.
	return readSecret(path)
}

func readSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := ParseSecret(string(raw))
	if err != nil {
		return nil, fmt.Errorf("secret file %s: %w", path, err)
	}
	return b, nil
}

func create(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	secret := make([]byte, MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	// os.CreateTemp makes the file with mode 0600.
	tmp, err := os.CreateTemp(dir, ".secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Link, unlike Rename, fails when path exists: the first writer wins.
	return os.Link(tmp.Name(), path)
}
