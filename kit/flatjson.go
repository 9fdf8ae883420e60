package kit

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Member is a member of a flat JSON object: a name and a string value.
type Member struct{ Name, Value string }

// maxFlatMembers bounds the members scanMembers takes (it finds duplicates
// by comparing each name with those before): the spec's bodies have a
// handful; one with more is encoding/json's to decode, and is refused by
// additionalProperties anyway.
const maxFlatMembers = 16

// scanMembers reads data in one pass when it is a JSON object whose
// members are all strings of printable ASCII, with no escape but \" \\ \/
// \b \f \n \r \t: the shape of every well-formed request body of this API.
// It appends the members, in order, to ms: the object json.Unmarshal into
// an `any` would decode (membersMap), with a few allocations where
// encoding/json's reflection takes a few microseconds. A member named twice
// is refused (dup true, ok false), where encoding/json would keep the last:
// a gateway or log that reads the first would see another request than the
// one served. ok false and dup false says only that data is not of that
// shape (a number, \u escape, non-ASCII text, nesting, too many members, or
// not JSON at all); the caller then decodes it with encoding/json, and
// checks for duplicates with duplicateMembers. FuzzScanFlat checks the two
// agree on every input scanMembers accepts or calls a duplicate.
func scanMembers(data []byte, ms []Member) (_ []Member, ok, dup bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false, false
	}
	// One string for the whole body: names and values without escapes are
	// substrings of it, no allocation each.
	whole := string(data)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return ms, skipSpace(data, i+1) == len(data), false
	}
	for {
		var key, val string
		if key, i, ok = scanString(data, whole, i); !ok {
			return nil, false, false
		}
		if i = skipSpace(data, i); i >= len(data) || data[i] != ':' {
			return nil, false, false
		}
		if val, i, ok = scanString(data, whole, skipSpace(data, i+1)); !ok {
			return nil, false, false
		}
		for _, m := range ms {
			if m.Name == key {
				// A duplicate, if the rest is JSON: otherwise the body is
				// malformed rather than ambiguous, for encoding/json to say.
				return nil, false, json.Valid(data)
			}
		}
		if len(ms) == maxFlatMembers {
			return nil, false, false
		}
		ms = append(ms, Member{key, val})
		if i = skipSpace(data, i); i >= len(data) {
			return nil, false, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return ms, skipSpace(data, i+1) == len(data), false
		default:
			return nil, false, false
		}
	}
}

// membersMap is the object ms are the members of, as json.Unmarshal into
// an `any` decodes it.
func membersMap(ms []Member) map[string]any {
	obj := make(map[string]any, len(ms))
	for _, m := range ms {
		obj[m.Name] = m.Value
	}
	return obj
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString reads the JSON string that starts at data[i], returning its
// value and the index after its closing quote. whole is string(data).
func scanString(data []byte, whole string, i int) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", i, false
	}
	start, escapes := i+1, 0
	for j := start; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			if escapes == 0 {
				return whole[start:j], j + 1, true
			}
			return unescape(data[start:j], escapes), j + 1, true
		case c == '\\':
			if j+1 >= len(data) {
				return "", j, false
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				escapes++
				j++
			default: // \u, or invalid: encoding/json's business
				return "", j, false
			}
		case c < 0x20 || c >= 0x7f:
			return "", j, false
		}
	}
	return "", len(data), false
}

// unescape decodes s, which holds n simple escapes and nothing else special.
// It writes to a strings.Builder grown to the exact length, so that the
// text is one allocation (a []byte and then a string of it were two).
func unescape(s []byte, n int) string {
	var out strings.Builder
	out.Grow(len(s) - n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			switch c = s[i]; c {
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			}
		}
		out.WriteByte(c)
	}
	return out.String()
}

// duplicateMembers reports whether data, a JSON text, has an object (at
// any depth) that names a member twice, names compared after unescaping,
// as encoding/json compares them into a map. It reports false for data
// that is not JSON (the caller refuses that anyway).
func duplicateMembers(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	// One frame per open object or array; names is nil for an array.
	// wantName: the next token of the object is a member name (or '}').
	type frame struct {
		names    map[string]struct{}
		wantName bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if n := len(stack); n > 0 && stack[n-1].names != nil && stack[n-1].wantName {
			if tok == json.Delim('}') {
				stack = stack[:n-1]
			} else {
				name, _ := tok.(string)
				if _, seen := stack[n-1].names[name]; seen {
					return json.Valid(data) // the rest may not be JSON
				}
				stack[n-1].names[name] = struct{}{}
				stack[n-1].wantName = false
				continue
			}
		} else {
			switch tok {
			case json.Delim('{'):
				stack = append(stack, frame{names: map[string]struct{}{}, wantName: true})
				continue
			case json.Delim('['):
				stack = append(stack, frame{})
				continue
			case json.Delim(']'):
				stack = stack[:len(stack)-1]
			}
		}
		// A value ended: its object, if any, expects a name next.
		n := len(stack)
		if n == 0 {
			return false
		}
		if stack[n-1].names != nil {
			stack[n-1].wantName = true
		}
	}
}
