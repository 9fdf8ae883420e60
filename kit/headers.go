package kit

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// headerCheck checks one header parameter of an operation the way
// openapi3filter.ValidateParameter does for a header whose schema is a
// plain string (minLength, maxLength, pattern), with the rule's own check
// and the refusal of repeated headers on top; it is compiled once from the
// spec, so a request costs neither kin-openapi's decoding nor its error
// values. A parameter whose schema says more than that is validated by
// kin-openapi instead (see operation.params).
type headerCheck struct {
	key      string // canonical header key
	rule     int    // index in rules
	required bool
	stringRule
	// schemaByKin says that kin-openapi checks the schema (and presence):
	// only the repeated and rule checks are ours.
	schemaByKin bool
}

// check returns the header's fault in h, or noFailure. Its precedence
// within the header is the one the validator has always had: repeated, then
// the rule's own check, then the schema as kin-openapi applies it.
func (hc *headerCheck) check(h http.Header) failure {
	vals, found := h[hc.key]
	r := &rules[hc.rule]
	switch {
	case len(vals) > 1:
		// kin-openapi reads only the first value, and the generated wrapper
		// refuses repeated headers with a plain 400: catch them here.
		return failure{hc.rule, r.invalid, "repeated"}
	case len(vals) == 1 && vals[0] != "" && r.check != nil && !r.check(vals[0]):
		return failure{hc.rule, r.invalid, "check"}
	}
	if hc.schemaByKin {
		return noFailure
	}
	switch {
	case !found:
		if hc.required {
			return failure{hc.rule, r.missing, "required"}
		}
		return noFailure
	case len(vals) == 0:
		// Present without a value: kin-openapi's ErrInvalidEmptyValue.
		return failure{hc.rule, r.empty, "empty"}
	}
	what := hc.schemaFault(vals[0])
	switch {
	case what == "":
		return noFailure
	case vals[0] == "":
		return failure{hc.rule, r.empty, "empty"}
	}
	return failure{hc.rule, r.invalid, what}
}

// stringRule is a string schema's minLength, maxLength, pattern and enum.
type stringRule struct {
	minLen  uint64
	maxLen  uint64 // when hasMax
	hasMax  bool
	pattern openapi3.RegexMatcher // nil: none
	enum    []string              // when hasEnum
	hasEnum bool
}

// schemaFault names the first schema keyword s fails, in kin-openapi's
// order, or returns "". Lengths are counted as kin-openapi counts them: in
// runes (an invalid byte is one), UTF-16 surrogates (which a Go string
// cannot decode to) twice.
func (sr *stringRule) schemaFault(s string) string {
	if sr.hasEnum && !slices.Contains(sr.enum, s) {
		return "enum"
	}
	if sr.minLen != 0 || sr.hasMax {
		n := uint64(utf8.RuneCountInString(s))
		if sr.minLen != 0 && n < sr.minLen {
			return "minLength"
		}
		if sr.hasMax && n > sr.maxLen {
			return "maxLength"
		}
	}
	if sr.pattern != nil && !sr.pattern.MatchString(s) {
		return "pattern"
	}
	return ""
}

// newStringRule compiles s, a schema of type string with no keyword but
// those of stringKeywords (and enum, when enum is set).
func newStringRule(s *openapi3.Schema, enum bool) (stringRule, bool, error) {
	if s.Type == nil || len(s.Type.Slice()) != 1 || !s.Type.Is(openapi3.TypeString) || !onlyKeywords(s, stringKeywords, enum) {
		return stringRule{}, false, nil
	}
	sr := stringRule{minLen: s.MinLength}
	if s.MaxLength != nil {
		sr.maxLen, sr.hasMax = *s.MaxLength, true
	}
	if s.Pattern != "" {
		m, err := compilePattern(s.Pattern)
		if err != nil {
			return stringRule{}, false, fmt.Errorf("pattern: %w", err)
		}
		sr.pattern = m
	}
	if len(s.Enum) > 0 {
		sr.hasEnum = true
		for _, e := range s.Enum {
			str, ok := e.(string)
			if !ok {
				return stringRule{}, false, nil
			}
			sr.enum = append(sr.enum, str)
		}
	}
	return sr, true, nil
}

// newHeaderCheck compiles p, a header parameter whose rule is rules[rule].
// It returns false when p needs more than headerCheck does, so that
// kin-openapi validates it.
func newHeaderCheck(doc *openapi3.T, p *openapi3.Parameter, rule int) (*headerCheck, bool, error) {
	if doc.IsOpenAPI31OrLater() || p.Content != nil || p.AllowEmptyValue ||
		(p.Style != "" && p.Style != openapi3.SerializationSimple) ||
		p.Schema == nil || p.Schema.Value == nil {
		return nil, false, nil
	}
	sr, ok, err := newStringRule(p.Schema.Value, false)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("header %q: %w", p.Name, err)
		}
		return nil, false, err
	}
	return &headerCheck{key: http.CanonicalHeaderKey(p.Name), rule: rule, required: p.Required, stringRule: sr}, true, nil
}

// stringKeywords are the Schema fields a headerCheck applies, or that do
// not change what a string value passes: annotations. A schema with any
// other field set (enum, format, default, allOf, ...) is left to kin-openapi,
// and so is one with a field that a later kin-openapi adds.
var stringKeywords = map[string]bool{
	"Extensions": true, "Origin": true, "Title": true, "Description": true,
	"Example": true, "Examples": true, "ExternalDocs": true, "Deprecated": true, "Comment": true,
	"Type": true, "MinLength": true, "MaxLength": true, "Pattern": true,
}

// onlyKeywords reports whether s sets no field but those of allowed (and
// Enum, when enum is set).
func onlyKeywords(s *openapi3.Schema, allowed map[string]bool, enum bool) bool {
	v := reflect.ValueOf(s).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Name
		if !allowed[name] && !(enum && name == "Enum") && !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}
