package sms

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maskNumber hides the middle of an E.164 number for logs: the country code,
// the first 3 and the last 4 national digits stay ("+86 123****8901"), which
// is enough to tell numbers apart in a log and not enough to dial one. A
// national number shorter than 8 digits keeps only its last 2; anything that
// does not parse keeps at most its last 2 characters.
//
// It is a local copy on purpose: providers depend on nothing above them, so
// sms does not import the pipeline's server/phone.
func maskNumber(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		if len(e164) <= 4 {
			return "***"
		}
		return "***" + e164[len(e164)-2:]
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	head, tail := 3, 4
	if len(nsn) < 8 {
		head, tail = 0, min(2, len(nsn))
	}
	return "+" + strconv.Itoa(int(num.GetCountryCode())) + " " +
		nsn[:head] + strings.Repeat("*", len(nsn)-head-tail) + nsn[len(nsn)-tail:]
}
