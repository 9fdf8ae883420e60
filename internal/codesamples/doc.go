// Package codesamples holds only tests: they keep openapi.yaml's
// x-codeSamples (the curl, Go and TypeScript samples the Redoc page shows
// beside each operation) and its error-code section true to the spec and to
// the files in examples/samples, which are the samples' source.
//
// After editing a sample file, copy it into the spec's x-codeSamples; the
// test fails, naming the operation, until the two are the same.
package codesamples
