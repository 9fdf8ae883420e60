//go:build goexperiment.jsonv2

package server

// fastBodyDecoder: see body_jsonv1.go.
const fastBodyDecoder = false
