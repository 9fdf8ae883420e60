package phone_test

import (
	"testing"

	"github.com/smscode/smscode/server/phone"
)

func TestCallingCodes(t *testing.T) {
	all := phone.Policy{}.CallingCodes()
	if len(all) < 200 {
		t.Fatalf("%d regions, want every region libphonenumber knows", len(all))
	}
	if !has(all, "+86", "CN") || !has(all, "+1", "US") || !has(all, "+44", "GB") {
		t.Error("well-known codes missing")
	}
	allowed := phone.Policy{AllowCountries: []string{"CN", "HK"}}.CallingCodes()
	if len(allowed) != 2 || !has(allowed, "+86", "CN") || !has(allowed, "+852", "HK") {
		t.Errorf("allow list: %v", allowed)
	}
	denied := phone.Policy{DenyCountries: []string{"US"}}.CallingCodes()
	if has(denied, "+1", "US") || !has(denied, "+1", "CA") || len(denied) != len(all)-1 {
		t.Errorf("deny list: US still there or others lost")
	}
	if phone.CallingCodeOf("CN") != "+86" || phone.CallingCodeOf("ZZ") != "" {
		t.Error("CallingCodeOf")
	}
}

func has(list []phone.CallingCode, code, region string) bool {
	for _, c := range list {
		if c.Code == code && c.Region == region {
			return true
		}
	}
	return false
}
