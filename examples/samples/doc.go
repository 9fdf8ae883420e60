// Package samples holds the Go code samples of openapi.yaml's x-codeSamples,
// one program per operation (samples/<operationId>/main.go). The files are
// the source: `go build ./...` compiles them, and internal/codesamples tests
// that the spec carries each file byte for byte, with a curl and a
// TypeScript sample beside it.
package samples
