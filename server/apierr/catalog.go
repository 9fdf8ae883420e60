package apierr

import (
	"fmt"
	"net/http"

	"go.yaml.in/yaml/v3"

	"github.com/smscode/smscode"
	"github.com/smscode/smscode/gen"
)

// Entry is one row of the error catalog (x-error-codes in openapi.yaml).
type Entry struct {
	Code      gen.ErrorCode
	Status    int
	OneAccess bool
	English   string
	Chinese   string
}

var catalog = mustLoadCatalog()

// Catalog returns every error code the API can answer with, in spec order.
func Catalog() []Entry {
	out := make([]Entry, 0, len(catalog.order))
	for _, c := range catalog.order {
		out = append(out, catalog.byCode[c])
	}
	return out
}

// Lookup returns the catalog entry of a code.
func Lookup(code gen.ErrorCode) (Entry, bool) {
	e, ok := catalog.byCode[code]
	return e, ok
}

// Status is the HTTP status of a code; 500 for a code not in the catalog.
func Status(code gen.ErrorCode) int {
	if e, ok := catalog.byCode[code]; ok {
		return e.Status
	}
	return http.StatusInternalServerError
}

// Message is the message of a code in the language of an X-L value:
// Chinese for zh, English otherwise.
func Message(code gen.ErrorCode, lang string) string {
	e, ok := catalog.byCode[code]
	if !ok {
		e = catalog.byCode[gen.ErrorCodeInternal]
	}
	if Chinese(lang) {
		return e.Chinese
	}
	return e.English
}

type catalogIndex struct {
	order  []gen.ErrorCode
	byCode map[gen.ErrorCode]Entry
}

// mustLoadCatalog reads x-error-codes from the embedded spec. A failure here
// is a broken build (the spec is compiled in), so it panics at start-up, and
// the package's tests catch it first.
func mustLoadCatalog() catalogIndex {
	idx, err := loadCatalog()
	if err != nil {
		panic("apierr: " + err.Error())
	}
	return idx
}

// specCatalog is the part of openapi.yaml that holds the catalog.
type specCatalog struct {
	Components struct {
		Schemas struct {
			ErrorCode struct {
				Codes []struct {
					Code      string  `yaml:"code"`
					Status    float64 `yaml:"status"`
					OneAccess bool    `yaml:"oneaccess"`
					En        string  `yaml:"en"`
					Zh        string  `yaml:"zh"`
				} `yaml:"x-error-codes"`
			} `yaml:"ErrorCode"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// loadCatalog reads x-error-codes from the committed spec's bytes (package
// smscode) with a YAML decoder, not from gen/genserver's parsed copy, so that
// this package, which the domain packages import, links neither Echo nor
// kin-openapi.
func loadCatalog() (catalogIndex, error) {
	var doc specCatalog
	if err := yaml.Unmarshal([]byte(smscode.OpenAPIYAML), &doc); err != nil {
		return catalogIndex{}, fmt.Errorf("reading the spec: %w", err)
	}
	raw := doc.Components.Schemas.ErrorCode.Codes
	if len(raw) == 0 {
		return catalogIndex{}, fmt.Errorf("ErrorCode has no x-error-codes list")
	}
	idx := catalogIndex{byCode: make(map[gen.ErrorCode]Entry, len(raw))}
	for i, m := range raw {
		code, en, zh, status, oneaccess := m.Code, m.En, m.Zh, m.Status, m.OneAccess
		if code == "" || en == "" || zh == "" || status < 400 || status > 599 {
			return catalogIndex{}, fmt.Errorf("x-error-codes[%d] (%q) lacks code, status, en or zh", i, code)
		}
		c := gen.ErrorCode(code)
		if _, dup := idx.byCode[c]; dup {
			return catalogIndex{}, fmt.Errorf("x-error-codes lists %s twice", code)
		}
		idx.order = append(idx.order, c)
		idx.byCode[c] = Entry{Code: c, Status: int(status), OneAccess: oneaccess, English: en, Chinese: zh}
	}
	return idx, nil
}
