package kit

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// scanFlat is scanMembers's object, as json.Unmarshal into an `any` would
// decode it (what the tests compare with encoding/json); size is the
// expected number of members.
func scanFlat(data []byte, size int) (obj map[string]any, ok, dup bool) {
	ms, ok, dup := scanMembers(data, make([]Member, 0, size))
	if !ok {
		return nil, false, dup
	}
	return membersMap(ms), true, false
}

// flatCases are bodies scanFlat takes (ok), calls duplicates (dup) or
// leaves to encoding/json.
var flatCases = []struct {
	body    string
	ok, dup bool
}{
	{`{"mobile":"12345678901","type":"BIND_MOBILE_SMS","captcha_token":"71d******635---{\"x\":237.0,\"y\":5.0}"}`, true, false},
	{" \t\r\n{ \"a\" : \"1\" , \"b\":\"\" }\n", true, false},
	{`{}`, true, false},
	{`{"a":"1","a":"2"}`, false, true},
	{`{"mobile":"1","type":"LOGIN_SMS","mobile":"13900000000"}`, false, true},
	{` { "a" : "1" , "a" : "1" } `, false, true},
	{`{"a":"1","a":"2"`, false, false}, // not JSON: malformed, not a duplicate
	{`{"a":"1","a":"2",}`, false, false},
	{`{"a":"1","a\u0041":"2"}`, false, false}, // encoding/json's (and duplicateMembers') business
	{`{"esc":"\"\\\/\b\f\n\r\t"}`, true, false},
	{`{"a":"x"}  `, true, false},
	{``, false, false},
	{`[]`, false, false},
	{`{"a":1}`, false, false},
	{`{"a":"1",}`, false, false},
	{`{"a":"1"} {}`, false, false},
	{`{"a":"1"`, false, false},
	{`{"a" "1"}`, false, false},
	{`{"a":"\u0041"}`, false, false},
	{`{"a":"é"}`, false, false},
	{"{\"a\":\"\x01\"}", false, false},
	{`{"a":"\x"}`, false, false},
	{`{"a":"1\`, false, false},
	{`{a:"1"}`, false, false},
	{`{"a":{"b":"c"}}`, false, false},
	{`{"a":null}`, false, false},
	{"\xef\xbb\xbf{}", false, false},
}

func TestScanFlat(t *testing.T) {
	for _, c := range flatCases {
		obj, ok, dup := scanFlat([]byte(c.body), 3)
		if ok != c.ok || dup != c.dup {
			t.Errorf("scanFlat(%q) ok, dup = %v, %v, want %v, %v", c.body, ok, dup, c.ok, c.dup)
			continue
		}
		checkFlatAgrees(t, []byte(c.body), obj, ok, dup)
	}
}

// TestDuplicateMembers: names compared after unescaping, at any depth,
// objects in arrays apart from each other.
func TestDuplicateMembers(t *testing.T) {
	for _, c := range []struct {
		body string
		want bool
	}{
		{`{"a":"1","a":"2"}`, true},
		{`{"a":1,"a":"2"}`, true},
		{`{"a":"1","\u0061":"2"}`, true},
		{`{"x":{"a":1,"b":{"c":[1,{"d":1,"d":2}]}}}`, true},
		{`{"x":{"a":1},"y":{"a":1}}`, false},
		{`[{"a":1},{"a":1}]`, false},
		{`{"a":[],"b":{},"c":[[{}]],"d":null}`, false},
		{`{"a":"1","A":"2"}`, false},
		{`{"a":"1"}`, false},
		{`{}`, false},
		{`"a"`, false},
		{`{"a":"1","a":`, false}, // not JSON
		{``, false},
	} {
		if got := duplicateMembers([]byte(c.body)); got != c.want {
			t.Errorf("duplicateMembers(%q) = %v, want %v", c.body, got, c.want)
		}
	}
}

// FuzzScanFlat: whatever scanFlat accepts, encoding/json decodes to the
// same value and it names no member twice, so the fast path never changes
// what a handler receives; whatever it calls a duplicate is JSON that
// names a member twice (the count of members in encoding/json's token
// stream exceeds that of its map).
func FuzzScanFlat(f *testing.F) {
	for _, c := range flatCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, ok, dup := scanFlat(data, 3)
		checkFlatAgrees(t, data, obj, ok, dup)
	})
}

func checkFlatAgrees(t *testing.T, data []byte, obj map[string]any, ok, dup bool) {
	t.Helper()
	if ok && dup {
		t.Fatalf("scanFlat(%q) both took it and called it a duplicate", data)
	}
	if !ok && !dup {
		return // left to encoding/json
	}
	var want any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("scanFlat took %q (dup %v), which encoding/json refuses: %v", data, dup, err)
	}
	m, isObj := want.(map[string]any)
	if !isObj {
		t.Fatalf("scanFlat(%q): encoding/json decodes %T, not an object", data, want)
	}
	if members := topMembers(t, data); (members != len(m)) != dup {
		t.Fatalf("scanFlat(%q) dup = %v, but %d members decode to %d", data, dup, members, len(m))
	}
	if ok && !reflect.DeepEqual(any(obj), want) {
		t.Fatalf("scanFlat(%q) = %#v, encoding/json %#v", data, obj, want)
	}
}

// topMembers counts the members of the object data by encoding/json's
// token stream (data is a flat object of strings: every other token after
// '{' is a name).
func topMembers(t *testing.T, data []byte) int {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return n / 2
		}
		if err != nil {
			t.Fatalf("token stream of %q: %v", data, err)
		}
		if _, isStr := tok.(string); isStr {
			n++
		}
	}
}
