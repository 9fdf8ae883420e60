//go:build tools

// Package smscode pins the versions of the code generator in go.mod, so that
// `go generate` runs the same oapi-codegen for everyone.
package smscode

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
