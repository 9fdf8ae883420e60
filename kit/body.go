package kit

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

// bodyCheck is a request body schema compiled for a fast path: a JSON
// object with additionalProperties: false whose members are strings with
// minLength, maxLength, pattern or enum, as every body of the embedded spec
// is. A body that passes it is one kin-openapi would pass, and is handed on
// as kin-openapi would (decoded the same way, as the ValidatedValue the
// strict handler binds). A body that fails it goes to kin-openapi, whose
// errors name the fault and the error code; so does every body of a schema
// that is not of that shape (newBodyCheck returns nil).
type bodyCheck struct {
	members map[string]*bodyMember
	// required has the bit of each member the schema requires.
	required uint64
}

// bodyMember is a member's rule and, when the schema requires it, its bit
// of bodyCheck.required (0 otherwise).
type bodyMember struct {
	stringRule
	bit uint64
}

// maxRequired is how many required members a bodyCheck tracks, one bit
// each; a schema that requires more goes to kin-openapi.
const maxRequired = 64

// objectCheck is bodyCheck's check of an object's members, one at a time:
// the one copy that both paths of pass make, on a flat body's members and
// on the decoded object's alike. A value, on the stack: no allocation.
type objectCheck struct {
	bc   *bodyCheck
	seen uint64 // the bits of the required members seen
}

// member reports whether name is one of the schema's members and value
// passes its rule.
func (oc *objectCheck) member(name, value string) bool {
	m := oc.bc.members[name]
	if m == nil || m.schemaFault(value) != "" {
		return false
	}
	oc.seen |= m.bit
	return true
}

// complete reports whether the object had every required member, once
// member passed each of its members. Each required member has a bit of its
// own, so a member named twice cannot stand in for a missing one, whether
// or not duplicates were refused before.
func (oc *objectCheck) complete() bool { return oc.seen == oc.bc.required }

// objectKeywords are the Schema fields a bodyCheck applies, or annotations.
var objectKeywords = map[string]bool{
	"Extensions": true, "Origin": true, "Title": true, "Description": true,
	"Example": true, "Examples": true, "ExternalDocs": true, "Deprecated": true, "Comment": true,
	"Type": true, "Properties": true, "Required": true, "AdditionalProperties": true,
}

// newBodyCheck compiles mt's schema, or returns nil when it is not of the
// shape bodyCheck handles or the JSON decoder is not kin-openapi's.
func newBodyCheck(doc *openapi3.T, mt *openapi3.MediaType) (*bodyCheck, error) {
	if !fastBodyDecoder || doc.IsOpenAPI31OrLater() || len(mt.Encoding) > 0 || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, nil
	}
	s := mt.Schema.Value
	ap := s.AdditionalProperties
	if s.Type == nil || len(s.Type.Slice()) != 1 || !s.Type.Is(openapi3.TypeObject) ||
		!onlyKeywords(s, objectKeywords, false) || ap.Has == nil || *ap.Has || ap.Schema != nil {
		return nil, nil
	}
	bc := &bodyCheck{members: make(map[string]*bodyMember, len(s.Properties))}
	for name, ref := range s.Properties {
		if ref == nil || ref.Value == nil {
			return nil, nil
		}
		sr, ok, err := newStringRule(ref.Value, true)
		if err != nil || !ok {
			return nil, err
		}
		bc.members[name] = &bodyMember{stringRule: sr}
	}
	n := 0
	for _, name := range s.Required {
		m := bc.members[name]
		if m == nil {
			return nil, nil
		}
		if m.bit == 0 { // a name listed twice is required once
			if n == maxRequired {
				return nil, nil
			}
			m.bit = 1 << n
			bc.required |= m.bit
			n++
		}
	}
	return bc, nil
}

// pass decodes data as kin-openapi's JSON body decoder does and reports
// whether the value passes the schema, returning it if so. dup reports a
// body that names a member twice, which is refused whatever the schema,
// and is only ever reported for valid JSON; a nil bodyCheck (a schema it
// does not handle) checks for duplicates alone.
func (bc *bodyCheck) pass(data []byte) (value any, members []Member, ok, dup bool) {
	if bc == nil {
		return nil, nil, false, duplicateMembers(data)
	}
	ms, flat, dup := scanMembers(data, make([]Member, 0, len(bc.members)))
	switch {
	case dup:
		return nil, nil, false, true
	case flat:
		// Every value is a string: the members' checks alone.
		oc := objectCheck{bc: bc}
		for _, m := range ms {
			if !oc.member(m.Name, m.Value) {
				return nil, nil, false, false
			}
		}
		if !oc.complete() {
			return nil, nil, false, false
		}
		return nil, ms, true, false
	case duplicateMembers(data):
		return nil, nil, false, true
	case json.Unmarshal(data, &value) != nil:
		// json.Unmarshal, unlike a Decoder, refuses trailing data, and
		// spares the Decoder's allocations. It decodes numbers as float64
		// where kin-openapi uses UseNumber: no body with a number passes,
		// but a number beyond float64 fails Unmarshal only; that body is
		// decoded again as kin-openapi does.
		if !json.Valid(data) {
			return nil, nil, false, false
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&value) != nil {
			return nil, nil, false, false
		}
	}
	m, isObj := value.(map[string]any)
	if !isObj {
		return nil, nil, false, false
	}
	oc := objectCheck{bc: bc}
	for name, v := range m {
		s, isStr := v.(string)
		if !isStr || !oc.member(name, s) {
			return nil, nil, false, false
		}
	}
	if !oc.complete() {
		return nil, nil, false, false
	}
	return value, nil, true, false
}

// keepValidated leaves the body as kin-openapi's KeepValidatedValue does:
// readable again, with the value it validated: value, or, for a flat body,
// the object of its members, made when first asked for.
func keepValidated(req *http.Request, data []byte, value any, members []Member) {
	b := &validatedBody{value: value, members: members, flat: members != nil}
	b.Reset(data)
	req.Body = b
	req.ContentLength = int64(len(data))
}

// validatedBody is a request body with the value the validator decoded, for
// the generated strict handler to bind (it looks for this method). One
// allocation: the reader is in it.
type validatedBody struct {
	bytes.Reader
	value any
	// members are a flat body's (flat), whose value is their object.
	members []Member
	flat    bool
}

// ValidatedValue returns the decoded body.
func (b *validatedBody) ValidatedValue() any {
	if b.flat && b.value == nil {
		b.value = membersMap(b.members)
	}
	return b.value
}

// ValidatedMembers returns the members of a body that is a flat JSON
// object (every value a string), in the body's order, without the map
// ValidatedValue makes of them; ok is false for any other body.
func (b *validatedBody) ValidatedMembers() (members []Member, ok bool) {
	return b.members, b.flat
}

// Close implements io.Closer.
func (b *validatedBody) Close() error { return nil }
