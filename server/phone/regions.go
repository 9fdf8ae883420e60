package phone

import (
	"slices"
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// CallingCode is a country calling code ("+86") and the region it belongs
// to ("CN"). Several regions share some codes (+1, +44, +7).
type CallingCode struct {
	Code   string
	Region string
}

// CallingCodes lists the regions the policy lets numbers go to, with their
// calling codes, sorted by region. The list is what the OneAccess "country
// codes" API returns, for a number field's country picker.
func (p Policy) CallingCodes() []CallingCode {
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		if p.allows(r) {
			regions = append(regions, r)
		}
	}
	slices.Sort(regions)
	out := make([]CallingCode, 0, len(regions))
	for _, r := range regions {
		out = append(out, CallingCode{Code: "+" + strconv.Itoa(phonenumbers.GetCountryCodeForRegion(r)), Region: r})
	}
	return out
}

// CallingCodeOf returns the calling code of a region ("CN" → "+86"), or ""
// for a region libphonenumber does not know.
func CallingCodeOf(region string) string {
	cc := phonenumbers.GetCountryCodeForRegion(region)
	if cc == 0 {
		return ""
	}
	return "+" + strconv.Itoa(cc)
}
