package phone_test

import (
	"errors"
	"regexp"
	"strconv"
	"testing"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/phone"
)

var e164Pattern = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)

// fuzzPolicies are the policies every fuzzed input goes through.
var fuzzPolicies = []phone.Policy{
	{},
	{Strict: true},
	{AllowCountries: []string{"CN", "GB"}, DenyCountries: []string{phone.NonGeographic}},
}

// FuzzParse checks that Parse never panics, that its errors are the two
// documented API errors, and that what it accepts is E.164, consistent with
// its parts, masked safely, and parses again to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"12345678901", "13812345678", "01012345678", "+8613812345678", "+8612345678901",
		"+447400123456", "+447700900123", "+4407400123456", "+12015550123", "+80012345678",
		"+390669812345", "", "+", "+0", "１２３", "138 1234 5678", "+999123456789012",
		"+1234567890123456", "+86\x0013812345678", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range fuzzPolicies {
			n, err := p.Parse(raw)
			if err != nil {
				var ae *apierr.Error
				if !errors.As(err, &ae) || ae.Code != gen.ErrorCodeMobileInvalid && ae.Code != gen.ErrorCodeDestinationBlocked {
					t.Fatalf("%+v.Parse(%q): unexpected error %v", p, raw, err)
				}
				continue
			}
			if !e164Pattern.MatchString(n.E164) {
				t.Fatalf("%+v.Parse(%q).E164 = %q, not E.164", p, raw, n.E164)
			}
			if n.E164 != "+"+strconv.Itoa(n.CallingCode)+n.National || n.Region == "" {
				t.Fatalf("%+v.Parse(%q) = %+v: inconsistent parts", p, raw, n)
			}
			if shown := shownDigits(phone.Mask(n.E164)); shown > 7 {
				t.Fatalf("Mask(%q) shows %d digits", n.E164, shown)
			}
			again, err := p.Parse(n.E164)
			if err != nil || again != n {
				t.Fatalf("%+v.Parse(%q) = %+v, but its E.164 parses to %+v, %v", p, raw, n, again, err)
			}
		}
	})
}
