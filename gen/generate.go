// Package gen holds the code that oapi-codegen generates from openapi.yaml:
// the models, a typed client, the Echo strict-server interface and the
// embedded spec. Nothing in this package is written by hand; change
// openapi.yaml and run `make generate`.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config config.yaml ../openapi.yaml
