//go:build !goexperiment.jsonv2

package kit

// fastBodyDecoder says that bodyCheck decodes as kin-openapi does: with
// encoding/json's v1 decoder. Built with GOEXPERIMENT=jsonv2, kin-openapi
// decodes with v2 (which refuses duplicate member names), and every body
// goes to kin-openapi.
const fastBodyDecoder = true
