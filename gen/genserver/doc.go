// Package genserver holds the Echo strict-server interface
// (StrictServerInterface, NewStrictHandler, RegisterHandlers), its request
// and response objects, and the embedded spec (GetSpec), that oapi-codegen
// generates from openapi.yaml (gen/genserver/config.yaml, run by
// `go generate ./gen`). The models it uses are package gen's. Nothing here is
// written by hand; change openapi.yaml and run `make generate`.
package genserver
