// Command speclint loads an OpenAPI document with kin-openapi, validates it
// and checks this project's own conventions on top:
//
//   - every operation has an operationId, a summary, a description and tags;
//   - every 4xx, 5xx and default response has content, and each of its media
//     types uses the Error schema (#/components/schemas/Error).
//
// It is run by `make lint-spec` as `go run ./internal/tools/speclint openapi.yaml`
// and exits 1 listing every problem, or 0 printing a one-line summary.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// errorSchemaRef is the schema every error answer must use.
const errorSchemaRef = "#/components/schemas/Error"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: speclint OPENAPI_FILE")
		return 2
	}
	file := args[0]
	problems, err := lintFile(context.Background(), file)
	if err != nil {
		fmt.Fprintf(stderr, "speclint: %s: %v\n", file, err)
		return 1
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "speclint: %s: %s\n", file, p)
		}
		fmt.Fprintf(stderr, "speclint: %s: %d problem(s)\n", file, len(problems))
		return 1
	}
	fmt.Fprintf(stdout, "speclint: %s: valid; conventions hold\n", file)
	return 0
}

// lintFile loads and validates the document (external $refs refused), then
// returns the convention problems. err is set when the document does not load
// or is not a valid OpenAPI document.
func lintFile(ctx context.Context, file string) ([]string, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.Context = ctx
	doc, err := loader.LoadFromFile(file)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return conventions(doc), nil
}

// conventions returns, sorted, every place where doc breaks the project's rules.
func conventions(doc *openapi3.T) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	var errorSchema *openapi3.Schema
	if doc.Components != nil {
		if ref := doc.Components.Schemas["Error"]; ref != nil {
			errorSchema = ref.Value
		}
	}
	if errorSchema == nil {
		add("components.schemas.Error is missing")
	}

	if doc.Paths == nil || doc.Paths.Len() == 0 {
		add("the document has no paths")
		return problems
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := strings.ToUpper(method) + " " + path
			if strings.TrimSpace(op.OperationID) == "" {
				add("%s: no operationId", where)
			}
			if strings.TrimSpace(op.Summary) == "" {
				add("%s: no summary", where)
			}
			if strings.TrimSpace(op.Description) == "" {
				add("%s: no description", where)
			}
			if len(op.Tags) == 0 {
				add("%s: no tags", where)
			}
			if op.Responses == nil {
				continue // doc.Validate has already refused this
			}
			for status, resp := range op.Responses.Map() {
				if !isErrorStatus(status) {
					continue
				}
				if resp == nil || resp.Value == nil || len(resp.Value.Content) == 0 {
					add("%s: response %s has no content (want the Error schema)", where, status)
					continue
				}
				for mime, mt := range resp.Value.Content {
					if mt == nil || mt.Schema == nil {
						add("%s: response %s %s has no schema (want %s)", where, status, mime, errorSchemaRef)
						continue
					}
					if mt.Schema.Ref != errorSchemaRef && (errorSchema == nil || mt.Schema.Value != errorSchema) {
						got := mt.Schema.Ref
						if got == "" {
							got = "an inline schema"
						}
						add("%s: response %s %s uses %s (want %s)", where, status, mime, got, errorSchemaRef)
					}
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// isErrorStatus reports whether a responses key is a 4xx or 5xx status, a
// 4XX/5XX range, or "default".
func isErrorStatus(status string) bool {
	return status == "default" || (len(status) == 3 && (status[0] == '4' || status[0] == '5'))
}
