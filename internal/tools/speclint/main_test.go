package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// good is a minimal document that follows every convention.
const good = `openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /a:
    post:
      operationId: doA
      summary: Do A
      description: Does A.
      tags: [T]
      responses:
        '200':
          description: ok
        '400':
          $ref: '#/components/responses/Bad'
        '500':
          description: boom
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Error'
components:
  schemas:
    Error:
      type: object
      properties:
        error_code: {type: string}
  responses:
    Bad:
      description: bad
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
`

// bad breaks each convention once.
const bad = `openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
        '404':
          description: no body
        '429':
          description: other schema
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Other'
        default:
          description: inline
          content:
            application/json:
              schema: {type: string}
components:
  schemas:
    Error: {type: object}
    Other: {type: object}
`

func write(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestGoodDocumentPasses(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{write(t, good)}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
}

func TestEveryConventionIsChecked(t *testing.T) {
	problems, err := lintFile(context.Background(), write(t, bad))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		"GET /a: no operationId",
		"GET /a: no summary",
		"GET /a: no description",
		"GET /a: no tags",
		"GET /a: response 404 has no content",
		"GET /a: response 429 application/json uses #/components/schemas/Other",
		"GET /a: response default application/json uses an inline schema",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
	if len(problems) != 7 {
		t.Errorf("got %d problems, want 7:\n%s", len(problems), got)
	}
}

func TestInvalidDocumentFails(t *testing.T) {
	// A required path parameter that the path does not declare.
	doc := strings.Replace(good, "      tags: [T]\n", "      tags: [T]\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n", 1)
	var out, errOut bytes.Buffer
	if code := run([]string{write(t, doc)}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut.String())
	}
}

func TestExternalRefsAreRefused(t *testing.T) {
	doc := strings.Replace(good, "$ref: '#/components/schemas/Error'\ncomponents", "$ref: 'other.yaml#/Error'\ncomponents", 1)
	if doc == good {
		t.Fatal("test edit did not apply")
	}
	if _, err := lintFile(context.Background(), write(t, doc)); err == nil {
		t.Fatal("an external $ref loaded; want it refused")
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}
