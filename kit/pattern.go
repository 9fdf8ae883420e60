package kit

import (
	"regexp"
	"regexp/syntax"

	"github.com/getkin/kin-openapi/openapi3"
)

// compilePattern is the regex compiler given to kin-openapi. Most of the
// spec's patterns are one ASCII character class repeated over the whole
// value (^[ -~]+$, ^[A-Za-z0-9_-]+$, ^[0-9]{4,10}$); for those it returns a
// byte-table matcher, which gives the same answers as Go's regexp on every
// string (a byte outside ASCII is never in the class, and neither is the
// rune it belongs to) at a fraction of the cost: regexp matching was a
// third of the validator's time. Other patterns go to regexp as
// kin-openapi would compile them.
func compilePattern(expr string) (openapi3.RegexMatcher, error) {
	if m, ok := classPattern(expr); ok {
		return m, nil
	}
	return regexp.Compile(goRegexp(expr))
}

// unicodeEscape is how kin-openapi rewrites the ECMA-262 \uXXXX escape into
// Go's syntax; the fallback does the same so that nothing changes meaning.
var unicodeEscape = regexp.MustCompile(`(?P<replaced_with_slash_x>\\u)(?P<code>[0-9A-F]{4})`)

func goRegexp(expr string) string { return unicodeEscape.ReplaceAllString(expr, `\x{${code}}`) }

// classMatcher matches strings of min to max (max < 0: any number of)
// bytes, each in the set.
type classMatcher struct {
	set      [256]bool
	min, max int
}

// MatchString implements openapi3.RegexMatcher.
func (m *classMatcher) MatchString(s string) bool {
	if len(s) < m.min || (m.max >= 0 && len(s) > m.max) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !m.set[s[i]] {
			return false
		}
	}
	return true
}

// classPattern recognises ^C+$, ^C*$ and ^C{m,n}$ where C is a character
// class of ASCII characters, as Go's regexp parses it.
func classPattern(expr string) (*classMatcher, bool) {
	re, err := syntax.Parse(goRegexp(expr), syntax.Perl)
	if err != nil {
		return nil, false
	}
	if re.Op != syntax.OpConcat || len(re.Sub) != 3 ||
		re.Sub[0].Op != syntax.OpBeginText || re.Sub[2].Op != syntax.OpEndText {
		return nil, false
	}
	rep := re.Sub[1]
	m := &classMatcher{}
	var class *syntax.Regexp
	switch rep.Op {
	case syntax.OpPlus:
		m.min, m.max, class = 1, -1, rep.Sub[0]
	case syntax.OpStar:
		m.min, m.max, class = 0, -1, rep.Sub[0]
	case syntax.OpRepeat:
		m.min, m.max, class = rep.Min, rep.Max, rep.Sub[0]
	default:
		return nil, false
	}
	switch class.Op {
	case syntax.OpCharClass:
		for i := 0; i+1 < len(class.Rune); i += 2 {
			lo, hi := class.Rune[i], class.Rune[i+1]
			if hi > 0x7f {
				return nil, false
			}
			for r := lo; r <= hi; r++ {
				m.set[r] = true
			}
		}
	case syntax.OpLiteral:
		if len(class.Rune) != 1 || class.Rune[0] > 0x7f || class.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		m.set[class.Rune[0]] = true
	default:
		return nil, false
	}
	return m, true
}
