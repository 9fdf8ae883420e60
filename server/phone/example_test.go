package phone_test

import (
	"fmt"

	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/phone"
)

func ExamplePolicy_Parse() {
	var oneAccess phone.Policy // the zero value: OneAccess-compatible
	n, err := oneAccess.Parse("12345678901")
	fmt.Println(n.E164, n.Region, err)

	strict := phone.Policy{Strict: true, AllowCountries: []string{"CN", "HK"}}
	_, err = strict.Parse("12345678901")
	fmt.Println(apierr.From(err).Code) // invalid
	_, err = strict.Parse("+447400123456")
	fmt.Println(apierr.From(err).Code) // blocked country
	// Output:
	// +8612345678901 CN <nil>
	// USER.0038
	// USER.0039
}

func ExamplePolicy_Validate() {
	p := phone.Policy{DenyCountries: []string{"UK"}}
	fmt.Println(p.Validate())
	// Output:
	// deny_countries: unknown region code "UK" (ISO 3166-1 alpha-2, upper case, such as "CN" or "GB")
}

func ExampleMask() {
	fmt.Println(phone.Mask("+8613812345678"))
	fmt.Println(phone.Mask("+447400123456"))
	// Output:
	// +86 138****5678
	// +44 7*****3456
}

func ExampleNumber_Prefix() {
	n, _ := phone.Policy{}.Parse("13812345678")
	fmt.Println(n.Prefix(3))
	// Output: +86138
}
