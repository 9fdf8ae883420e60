// Package gen holds the models and the typed client that oapi-codegen
// generates from openapi.yaml (config.yaml). It depends on no server
// framework, so client/ and any program importing it stay light; the Echo
// strict-server interface and the embedded spec are in gen/genserver,
// generated from the same spec by the same go generate. Nothing in these
// packages is written by hand; change openapi.yaml and run `make generate`.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config config.yaml ../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config genserver/config.yaml ../openapi.yaml
