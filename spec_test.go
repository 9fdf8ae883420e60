package smscode_test

import (
	"os"
	"testing"

	"github.com/smscode/smscode"
)

// The embedded spec is the committed file, byte for byte.
func TestOpenAPIYAMLIsTheFile(t *testing.T) {
	want, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if smscode.OpenAPIYAML != string(want) {
		t.Fatalf("embedded spec (%d B) differs from openapi.yaml (%d B)", len(smscode.OpenAPIYAML), len(want))
	}
}
