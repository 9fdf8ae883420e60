// Package phone checks and normalises the mobile numbers that send and verify
// requests carry, and masks them for logs.
//
// OneAccess documents a mobile number as exactly 11 digits (a mainland China
// number); this server also takes international numbers in E.164 form. A
// Policy says how strictly numbers are checked and to which countries codes
// may be sent; Parse turns a raw number into a Number whose E164 form is the
// one every store key, limit and provider sees, so that "13812345678" and
// "+8613812345678" are one number.
package phone

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/nyaruka/phonenumbers"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
)

// China's calling code and region: an 11-digit number without "+" is a
// mainland number, as OneAccess documents.
const (
	chinaCallingCode = 86
	chinaRegion      = "CN"
	chinaPrefix      = "+86"
	domesticLen      = 11
)

// NonGeographic is the region libphonenumber gives numbers that belong to no
// country (international freephone +800, satellite and global services such
// as +881, +882): a Policy may list it in AllowCountries or DenyCountries.
const NonGeographic = "001"

// Number is a checked mobile number.
type Number struct {
	// E164 is the number in E.164 form, such as "+8613812345678": the form
	// used for store keys and handed to providers.
	E164 string
	// CallingCode is the country calling code, such as 86.
	CallingCode int
	// Region is the ISO 3166-1 region code, such as "CN", or NonGeographic.
	Region string
	// National is the national significant number: E164 without "+" and
	// the calling code, such as "13812345678".
	National string
}

// Policy says which mobile numbers are accepted. The zero value is the
// OneAccess-compatible default: any 11-digit mainland number that starts
// with 1, and any international number libphonenumber deems valid, to any
// country.
type Policy struct {
	// Strict checks 11-digit mainland numbers with libphonenumber too (so
	// the OneAccess example 12345678901 is refused), and accepts only
	// numbers that libphonenumber says can be mobile numbers (not fixed
	// lines, freephone, premium-rate or shared-cost numbers).
	Strict bool `yaml:"strict"`
	// AllowCountries, when not empty, lists the only regions that codes
	// may be sent to: ISO 3166-1 alpha-2 codes in upper case ("CN", "US"),
	// or NonGeographic. Regions are libphonenumber's: "+44 7911..." is
	// Guernsey ("GG"), not "GB"; "+1 242..." is the Bahamas, not "US".
	AllowCountries []string `yaml:"allow_countries"`
	// DenyCountries lists regions that codes are never sent to; it wins
	// over AllowCountries.
	DenyCountries []string `yaml:"deny_countries"`
}

// Parse checks raw against the policy and returns the number it names. An
// invalid number is USER.0038 (gen.ErrorCodeMobileInvalid); a number whose
// region the policy blocks is USER.0039 (gen.ErrorCodeDestinationBlocked).
//
// Only ASCII input is accepted: exactly 11 digits, or "+" and 7 to 15
// digits without spaces or punctuation, as the spec's Mobile pattern says.
// libphonenumber would also read full-width digits, spaces and letters; the
// pre-check refuses them so that one number has one spelling.
func (p Policy) Parse(raw string) (Number, error) {
	n, err := p.parse(raw)
	if err != nil {
		return Number{}, err
	}
	if !p.allows(n.Region) {
		return Number{}, apierr.Wrap(gen.ErrorCodeDestinationBlocked,
			fmt.Errorf("region %s is blocked by the phone policy", n.Region))
	}
	return n, nil
}

func (p Policy) parse(raw string) (Number, error) {
	switch {
	case isDomestic(raw):
		if p.Strict {
			return p.parseLib(chinaPrefix + raw)
		}
		return domestic(raw)
	case isInternational(raw):
		// A mainland number written with +86 is the same number as its
		// 11-digit form, so it gets the same treatment.
		if !p.Strict && len(raw) == len(chinaPrefix)+domesticLen && raw[:3] == chinaPrefix {
			return domestic(raw[3:])
		}
		n, err := p.parseLib(raw)
		// libphonenumber drops a trunk 0 written after +86 ("+86076..." is
		// read as "+8676..."): a number that ends up as 11 mainland digits
		// must pass the rule its 11-digit spelling meets, or the server
		// would send to a number it refuses when written another way.
		if err == nil && !p.Strict && n.CallingCode == chinaCallingCode && len(n.National) == domesticLen {
			return domestic(n.National)
		}
		return n, err
	default:
		return Number{}, invalid("not 11 digits nor + and 7 to 15 digits")
	}
}

// domestic accepts an 11-digit mainland number as OneAccess does, without
// libphonenumber (which refuses unassigned ranges such as the documented
// example 12345678901). The leading 1 is still required: every mainland
// mobile number starts with 1, and one starting with 0 is a landline with its
// trunk prefix, whose "+860..." form would not be E.164 at all.
func domestic(digits string) (Number, error) {
	if digits[0] != '1' {
		return Number{}, invalid("11-digit mainland numbers start with 1")
	}
	return Number{E164: chinaPrefix + digits, CallingCode: chinaCallingCode, Region: chinaRegion, National: digits}, nil
}

// parseLib checks an E.164 number with libphonenumber.
func (p Policy) parseLib(e164 string) (Number, error) {
	num, err := phonenumbers.Parse(e164, phonenumbers.UNKNOWN_REGION)
	if err != nil {
		return Number{}, invalid(err.Error())
	}
	// The region is looked up once and reused: for calling codes shared by
	// several regions (+1, +44, +7) it takes a regular expression per
	// region, and IsValidNumber would look it up again.
	region := phonenumbers.GetRegionCodeForNumber(num)
	if p.Strict {
		// GetNumberType is UNKNOWN for an invalid number, so this is
		// IsValidNumber and a type check in one.
		if !mobileCapable(phonenumbers.GetNumberType(num)) {
			return Number{}, invalid("not a valid mobile number")
		}
	} else if !phonenumbers.IsValidNumberForRegion(num, region) {
		return Number{}, invalid("not a valid number for its country")
	}
	n := Number{
		E164:        phonenumbers.Format(num, phonenumbers.E164),
		CallingCode: int(num.GetCountryCode()),
		Region:      region,
		National:    phonenumbers.GetNationalSignificantNumber(num),
	}
	// libphonenumber strips a national prefix written after the calling
	// code ("+4407..." becomes "+447..."): accepted, the E164 form is the
	// canonical one. Anything else it produced must still be E.164.
	if !isInternational(n.E164) || n.E164 != "+"+strconv.Itoa(n.CallingCode)+n.National {
		return Number{}, invalid("does not normalise to E.164")
	}
	return n, nil
}

func mobileCapable(t phonenumbers.PhoneNumberType) bool {
	return t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
}

func (p Policy) allows(region string) bool {
	if contains(p.DenyCountries, region) {
		return false
	}
	return len(p.AllowCountries) == 0 || contains(p.AllowCountries, region)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func invalid(why string) error {
	return apierr.Wrap(gen.ErrorCodeMobileInvalid, fmt.Errorf("mobile number: %s", why))
}

// isDomestic reports whether s is exactly 11 ASCII digits.
func isDomestic(s string) bool {
	return len(s) == domesticLen && allDigits(s)
}

// isInternational reports whether s is "+", a digit 1-9 and 6 to 14 more
// ASCII digits: the spec's ^\+[1-9][0-9]{6,14}$.
func isInternational(s string) bool {
	return len(s) >= 8 && len(s) <= 16 && s[0] == '+' && s[1] != '0' && allDigits(s[1:])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Prefix is the calling code and the first digits national digits, such as
// "+86138" for Prefix(3): the key of the SMS-pumping defence, which counts
// sends per number range. digits is clamped to the national number's length.
func (n Number) Prefix(digits int) string {
	digits = min(max(digits, 0), len(n.National))
	return "+" + strconv.Itoa(n.CallingCode) + n.National[:digits]
}

// String returns the masked number (see Mask), so that a Number printed or
// logged by mistake does not leak the full number.
func (n Number) String() string { return Mask(n.E164) }

// LogValue implements slog.LogValuer: a Number logs masked.
func (n Number) LogValue() slog.Value { return slog.StringValue(Mask(n.E164)) }
