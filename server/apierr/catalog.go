package apierr

import (
	"fmt"
	"net/http"

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

func loadCatalog() (catalogIndex, error) {
	spec, err := gen.GetSpec()
	if err != nil {
		return catalogIndex{}, err
	}
	ref := spec.Components.Schemas["ErrorCode"]
	if ref == nil || ref.Value == nil {
		return catalogIndex{}, fmt.Errorf("spec has no ErrorCode schema")
	}
	raw, ok := ref.Value.Extensions["x-error-codes"].([]any)
	if !ok {
		return catalogIndex{}, fmt.Errorf("ErrorCode has no x-error-codes list")
	}
	idx := catalogIndex{byCode: make(map[gen.ErrorCode]Entry, len(raw))}
	for i, item := range raw {
		m, ok := item.(map[string]any)
		if !ok {
			return catalogIndex{}, fmt.Errorf("x-error-codes[%d] is not an object", i)
		}
		code, _ := m["code"].(string)
		en, _ := m["en"].(string)
		zh, _ := m["zh"].(string)
		status, _ := m["status"].(float64)
		oneaccess, _ := m["oneaccess"].(bool)
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
