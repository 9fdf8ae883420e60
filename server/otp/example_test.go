package otp_test

import (
	"fmt"
	"path/filepath"

	"github.com/smscode/smscode/server/otp"
)

func Example() {
	// In production the secret comes from configuration (otp.ParseSecret);
	// in development a file is created on first start.
	secret, err := otp.LoadOrCreateSecret(filepath.Join(exampleDir(), "otp.secret"))
	if err != nil {
		panic(err)
	}
	hasher, err := otp.NewHasher(secret)
	if err != nil {
		panic(err)
	}

	code, err := otp.Generate(6)
	if err != nil {
		panic(err)
	}
	// Only the hash is stored, under a key naming app, number and scenario.
	key := "app1/+8613812345678/LOGIN_SMS"
	stored := hasher.Hash(key, code)

	fmt.Println(len(code), hasher.Equal(key, code, stored))
	fmt.Println(hasher.Equal("app1/+8613812345678/REGISTER_SMS", code, stored))
	// Output:
	// 6 true
	// false
}

func ExampleParseSecret() {
	secret, err := otp.ParseSecret("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	fmt.Println(len(secret), err)
	_, err = otp.ParseSecret("c2hvcnQ=")
	fmt.Println(err)
	// Output:
	// 32 <nil>
	// otp: secret too short: 5 bytes decoded, want at least 32 (generate one with: openssl rand -hex 32)
}
