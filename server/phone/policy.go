package phone

import (
	"errors"
	"fmt"

	"github.com/nyaruka/phonenumbers"
)

// Validate checks the policy's region codes: each must be a region
// libphonenumber knows, in upper case, or NonGeographic; and no region may be
// both allowed and denied. A policy is validated once, when the
// configuration is loaded, so that a typo ("UK" for "GB", "cn") fails the
// start instead of silently allowing or blocking nothing.
func (p Policy) Validate() error {
	var errs []error
	check := func(field string, list []string) {
		for _, r := range list {
			if !knownRegion(r) {
				errs = append(errs, fmt.Errorf("%s: unknown region code %q (ISO 3166-1 alpha-2, upper case, such as \"CN\" or \"GB\")", field, r))
			}
		}
	}
	check("allow_countries", p.AllowCountries)
	check("deny_countries", p.DenyCountries)
	for _, r := range p.DenyCountries {
		if contains(p.AllowCountries, r) {
			errs = append(errs, fmt.Errorf("region %q is in both allow_countries and deny_countries", r))
		}
	}
	return errors.Join(errs...)
}

func knownRegion(r string) bool {
	return r == NonGeographic || phonenumbers.GetSupportedRegions()[r]
}
