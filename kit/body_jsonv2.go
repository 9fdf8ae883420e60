//go:build goexperiment.jsonv2

package kit

// fastBodyDecoder: see body_jsonv1.go.
const fastBodyDecoder = false
