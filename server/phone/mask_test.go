package phone_test

import (
	"strings"
	"testing"

	"github.com/smscode/smscode/server/phone"
)

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+8613812345678", "+86 138****5678"},
		{"+8612345678901", "+86 123****8901"},
		{"+447400123456", "+44 7*****3456"}, // 10 national digits: half shown
		{"+12015550123", "+1 2*****0123"},
		{"+33612345678", "+33 *****5678"},         // 9: 4 shown
		{"+80012345678", "+800 ****5678"},         // 8: 4 shown
		{"+3531234567", "+353 ****567"},           // 7: 3 shown
		{"+491234567890123", "+49 123******0123"}, // 13: still 7 shown
		{"+8612", "+86 **"},
		{"", ""},
		{"+", "*"},
		{"+86", "***"}, // no national digits: nothing to split
		{"13812345678", "***********"},
		{"+99912345678", "************"}, // no such calling code
		{"+86 138 1234", "************"},
		{"+86138123456789012345", "****************"}, // capped at 16
	}
	for _, tt := range tests {
		if got := phone.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// shownDigits counts the national digits Mask left visible.
func shownDigits(masked string) int {
	_, national, ok := strings.Cut(masked, " ")
	if !ok {
		return 0
	}
	return len(national) - strings.Count(national, "*")
}

func TestMaskNeverShowsMoreThanSeven(t *testing.T) {
	for l := 1; l <= 14; l++ {
		e164 := "+1" + strings.Repeat("5", l)
		m := phone.Mask(e164)
		if shown := shownDigits(m); shown > 7 || shown > l/2 && l < 11 || l-shown < 4 && l >= 4 {
			t.Errorf("Mask(%q) = %q shows %d of %d national digits", e164, m, shown, l)
		}
	}
}
