package smscode

import _ "embed"

// OpenAPIYAML is openapi.yaml, the API contract, byte for byte as committed:
// the server answers GET /openapi.yaml with it, and apierr reads the error
// catalog from it. It sits in the repository's root package because go:embed
// cannot reach a parent directory; the package imports nothing else, so
// importing it costs only the spec's bytes.
//
//go:embed openapi.yaml
var OpenAPIYAML string
