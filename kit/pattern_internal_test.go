package kit

import (
	"regexp"
	"strings"
	"testing"
)

// The byte-table matchers answer exactly as Go's regexp does, on the
// spec's patterns and on inputs at and around their edges.
func TestClassPatternMatchesRegexp(t *testing.T) {
	patterns := []struct {
		expr string
		fast bool // whether it should get a byte-table matcher
	}{
		{`^[ -~]+$`, true},
		{`^[!-~]+$`, true},
		{`^[0-9A-Fa-f:.]+$`, true},
		{`^[A-Za-z0-9_-]+$`, true},
		{`^[0-9]{4,10}$`, true},
		{`^[a-z]*$`, true},
		{`^[0-9]{3,}$`, true},
		{`^(\+[1-9][0-9]{6,14}|[0-9]{11})$`, false},
		{`^[A-Za-z]{2,3}([_-][A-Za-z0-9]{1,8})*$`, false},
		{`^[^0-9]+$`, false}, // negated: contains non-ASCII runes
		{`^[é]+$`, false},
		{`[a-z]+`, false},       // not anchored
		{`(?i)^[a-z]+$`, false}, // folds to the Kelvin sign and long s
	}
	inputs := []string{"", "a", "abc", "ABC", "Android 10", "abc def", "abc\tdef", "é", "abcé", "\xff",
		"0123", "012", "0123456789", "01234567890", "10.10.10.1", "fe80::1%eth0", "app_id-1",
		"app<script>", "~!", " ", strings.Repeat("9", 64), "abc\n", "\nabc", "a\x00b"}
	for _, p := range patterns {
		m, err := compilePattern(p.expr)
		if err != nil {
			t.Fatalf("%s: %v", p.expr, err)
		}
		_, fast := m.(*classMatcher)
		if fast != p.fast {
			t.Errorf("%s: byte-table matcher %v, want %v", p.expr, fast, p.fast)
		}
		re := regexp.MustCompile(p.expr)
		for _, in := range inputs {
			if got, want := m.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", p.expr, in, got, want)
			}
		}
	}
	if _, err := compilePattern(`^[a-`); err == nil {
		t.Error("a broken pattern compiled")
	}
}

func FuzzClassPattern(f *testing.F) {
	for _, s := range []string{"Android 10", "é", "\xff", "0123"} {
		f.Add(s)
	}
	exprs := []string{`^[ -~]+$`, `^[!-~]+$`, `^[0-9A-Fa-f:.]+$`, `^[A-Za-z0-9_-]+$`, `^[0-9]{4,10}$`}
	f.Fuzz(func(t *testing.T, s string) {
		for _, expr := range exprs {
			m, _ := compilePattern(expr)
			if got, want := m.MatchString(s), regexp.MustCompile(expr).MatchString(s); got != want {
				t.Fatalf("%s on %q: %v, regexp says %v", expr, s, got, want)
			}
		}
	})
}
