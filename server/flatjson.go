package server

// scanFlat decodes data in one pass when it is a JSON object whose members
// are all strings of printable ASCII, with no escape but \" \\ \/ \b \f \n
// \r \t: the shape of every well-formed request body of this API. It
// returns what json.Unmarshal into an `any` would (a later duplicate member
// wins, as there), with a few allocations where encoding/json's reflection
// takes a few microseconds. ok false says only that data is not of that
// shape (a number, \u escape, non-ASCII text, nesting, or not JSON at all);
// the caller then decodes it with encoding/json. FuzzScanFlat checks the
// two agree on every input scanFlat accepts. size is the expected number
// of members, to size the map.
func scanFlat(data []byte, size int) (obj map[string]any, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	// One string for the whole body: names and values without escapes are
	// substrings of it, no allocation each.
	whole := string(data)
	obj = make(map[string]any, size)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return obj, skipSpace(data, i+1) == len(data)
	}
	for {
		var key, val string
		if key, i, ok = scanString(data, whole, i); !ok {
			return nil, false
		}
		if i = skipSpace(data, i); i >= len(data) || data[i] != ':' {
			return nil, false
		}
		if val, i, ok = scanString(data, whole, skipSpace(data, i+1)); !ok {
			return nil, false
		}
		obj[key] = val
		if i = skipSpace(data, i); i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return obj, skipSpace(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
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
func unescape(s []byte, n int) string {
	out := make([]byte, 0, len(s)-n)
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
		out = append(out, c)
	}
	return string(out)
}
