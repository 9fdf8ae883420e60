package otp_test

import (
	"os"
	"sync"
	"testing"
)

var (
	exampleDirOnce sync.Once
	exampleDirPath string
)

// exampleDir is a temporary directory for examples, which have no
// testing.T to ask for one; TestMain removes it.
func exampleDir() string {
	exampleDirOnce.Do(func() {
		d, err := os.MkdirTemp("", "otp-example-")
		if err != nil {
			panic(err)
		}
		exampleDirPath = d
	})
	return exampleDirPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if exampleDirPath != "" {
		os.RemoveAll(exampleDirPath)
	}
	os.Exit(code)
}
