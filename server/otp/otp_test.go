package otp_test

import (
	"errors"
	"testing"

	"github.com/smscode/smscode/server/otp"
)

func TestGenerateLength(t *testing.T) {
	tests := []struct {
		length  int
		wantErr bool
	}{
		{-1, true}, {0, true}, {3, true},
		{4, false}, {6, false}, {8, false}, {10, false},
		{11, true}, {1 << 20, true},
	}
	for _, tt := range tests {
		code, err := otp.Generate(tt.length)
		if tt.wantErr {
			if !errors.Is(err, otp.ErrLength) || code != "" {
				t.Errorf("Generate(%d) = %q, %v; want ErrLength", tt.length, code, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Generate(%d): %v", tt.length, err)
		}
		if len(code) != tt.length {
			t.Errorf("Generate(%d) = %q: length %d", tt.length, code, len(code))
		}
		for _, c := range code {
			if c < '0' || c > '9' {
				t.Errorf("Generate(%d) = %q: not only digits", tt.length, code)
			}
		}
	}
}

// TestGenerateLeadingZeros checks that codes are not numbers in disguise:
// with 4 digits, about 1 code in 10 starts with 0; 2,000 draws without one
// would happen with probability 0.9^2000, never.
func TestGenerateLeadingZeros(t *testing.T) {
	for range 2000 {
		code, err := otp.Generate(4)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 4 {
			t.Fatalf("code %q lost a digit", code)
		}
		if code[0] == '0' {
			return
		}
	}
	t.Fatal("no code of 2,000 started with 0")
}

// TestGenerateUniform is a chi-square test of the digit counts over 100,000
// digits. With 9 degrees of freedom, the statistic exceeds 50 with
// probability about 1e-7; a modulo bias (0-5 likelier by 1/25) would push it
// to about 80 on this many digits, and a stuck digit far beyond.
func TestGenerateUniform(t *testing.T) {
	const draws, length = 10000, 10
	var counts [10]int
	for range draws {
		code, err := otp.Generate(length)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range code {
			counts[c-'0']++
		}
	}
	expected := float64(draws*length) / 10
	chi2 := 0.0
	for _, n := range counts {
		d := float64(n) - expected
		chi2 += d * d / expected
	}
	if chi2 > 50 {
		t.Fatalf("digit counts %v: chi-square %.1f > 50", counts, chi2)
	}
}

func TestGenerateDiffers(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		code, err := otp.Generate(10)
		if err != nil {
			t.Fatal(err)
		}
		seen[code] = true
	}
	// 100 draws from 10^10 codes collide with probability about 5e-7.
	if len(seen) < 99 {
		t.Fatalf("only %d distinct codes of 100", len(seen))
	}
}
