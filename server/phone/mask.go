package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Mask hides most of an E.164 number for logs: the calling code stays, then
// a space, then the national number with at most its first 3 and last 4
// digits shown: "+8613812345678" becomes "+86 138****5678".
//
// At least 4 digits are always hidden and at most 7 shown; a national
// number shorter than 11 digits shows at most half of its digits, the last
// ones first: "+447400123456" becomes "+44 7*****3456" and a 7-digit national
// number shows only its last 3. Input that is not "+" and digits with a
// known calling code is masked whole, keeping only its length (capped at
// 16), so that a malformed number logged as received leaks nothing either.
func Mask(e164 string) string {
	cc, national, ok := splitE164(e164)
	if !ok {
		return strings.Repeat("*", min(len(e164), 16))
	}
	n := len(national)
	shown := 7
	if n < 11 {
		shown = min(n-4, n/2)
	}
	shown = max(shown, 0)
	tail := min(shown, 4)
	head := shown - tail
	var b strings.Builder
	b.Grow(len(e164) + 1)
	b.WriteString(cc)
	b.WriteByte(' ')
	b.WriteString(national[:head])
	for range n - shown {
		b.WriteByte('*')
	}
	b.WriteString(national[n-tail:])
	return b.String()
}

// splitE164 splits "+8613812345678" into "+86" and "13812345678". Calling
// codes are prefix-free, so at most one of the first 1-3 digits matches.
func splitE164(s string) (cc, national string, ok bool) {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' || !allDigits(s[1:]) {
		return "", "", false
	}
	codes := phonenumbers.GetSupportedCallingCodes()
	for l := 1; l <= 3 && l < len(s)-1; l++ {
		code := 0
		for _, c := range s[1 : 1+l] {
			code = code*10 + int(c-'0')
		}
		if codes[code] {
			return s[:1+l], s[1+l:], true
		}
	}
	return "", "", false
}
