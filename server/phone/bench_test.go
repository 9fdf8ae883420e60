package phone_test

import (
	"testing"

	"github.com/smscode/smscode/server/phone"
)

func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name   string
		policy phone.Policy
		raw    string
	}{
		{"11-digit", phone.Policy{}, "13812345678"},
		{"11-digit/strict", phone.Policy{Strict: true}, "13812345678"},
		{"E.164", phone.Policy{}, "+447400123456"},
		{"E.164/strict", phone.Policy{Strict: true}, "+447400123456"},
		{"E.164/deny-list", phone.Policy{DenyCountries: []string{"NG", "PK", "BD", "ID"}}, "+447400123456"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.policy.Parse(c.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMask(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = phone.Mask("+8613812345678")
	}
}
