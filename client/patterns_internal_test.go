package client

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// specSchema is a header's schema in openapi.yaml.
type specSchema struct {
	MinLength int    `yaml:"minLength"`
	MaxLength int    `yaml:"maxLength"`
	Pattern   string `yaml:"pattern"`
}

// The client's header checks (hand-copied from the spec, so that a
// misconfigured client fails in New) accept exactly what the spec's
// pattern, minLength and maxLength accept, for every byte and around each
// length bound. X-device-ip is left out: the client parses it as an
// address (netip), which is stricter than the spec's character class.
func TestHeaderChecksMatchTheSpec(t *testing.T) {
	raw, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Parameters map[string]struct {
				Schema specSchema `yaml:"schema"`
			} `yaml:"parameters"`
			Headers map[string]struct {
				Schema specSchema `yaml:"schema"`
			} `yaml:"headers"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schema := func(name string) specSchema {
		if p, ok := doc.Components.Parameters[name]; ok {
			return p.Schema
		}
		if h, ok := doc.Components.Headers[name]; ok {
			return h.Schema
		}
		t.Fatalf("openapi.yaml has no parameter or header %s", name)
		return specSchema{}
	}
	checks := []struct {
		name   string // components/parameters or components/headers
		client func(string) bool
	}{
		{"XClientId", idRE.MatchString},
		{"XTenantId", idRE.MatchString},
		{"XOperatingSysVersion", func(s string) bool { return Device{OSVersion: s, Fingerprint: "f", UserAgent: "a"}.validate() == nil }},
		{"XDeviceFingerprint", func(s string) bool { return Device{OSVersion: "o", Fingerprint: s, UserAgent: "a"}.validate() == nil }},
		{"XAgent", func(s string) bool { return Device{OSVersion: "o", Fingerprint: "f", UserAgent: s}.validate() == nil }},
		{"XL", languageRE.MatchString},
		{"XRequestId", requestIDRE.MatchString},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			s := schema(c.name)
			if s.Pattern == "" || s.MaxLength == 0 {
				t.Fatalf("%s has no pattern or maxLength in openapi.yaml", c.name)
			}
			re := regexp.MustCompile(s.Pattern)
			spec := func(v string) bool {
				n := utf8.RuneCountInString(v)
				return n >= s.MinLength && n <= s.MaxLength && re.MatchString(v)
			}
			var inputs []string
			for b := 0; b < 256; b++ {
				inputs = append(inputs, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"b")
			}
			for _, n := range []int{0, 1, 2, s.MinLength, s.MaxLength - 1, s.MaxLength, s.MaxLength + 1} {
				if n >= 0 {
					inputs = append(inputs, strings.Repeat("a", n))
				}
			}
			mismatches := 0
			for _, v := range inputs {
				if got, want := c.client(v), spec(v); got != want {
					mismatches++
					if mismatches <= 5 {
						t.Errorf("%q (%d B): client accepts %v, spec %v", v, len(v), got, want)
					}
				}
			}
			t.Logf("%s: %d inputs, %d mismatches (pattern %s, length %d..%d)", c.name, len(inputs), mismatches, s.Pattern, s.MinLength, s.MaxLength)
		})
	}
}
