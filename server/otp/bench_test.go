package otp_test

import (
	"testing"

	"github.com/smscode/smscode/server/otp"
)

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := otp.Generate(6); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	h := mustHasher(b, secret(9))
	b.ReportAllocs()
	for b.Loop() {
		h.Hash("tenant/app/+8613812345678/LOGIN_SMS", "123456")
	}
}
