package server

import (
	"encoding/json"
	"reflect"
	"testing"
)

// flatCases are bodies scanFlat takes (ok) or leaves to encoding/json.
var flatCases = []struct {
	body string
	ok   bool
}{
	{`{"mobile":"12345678901","type":"BIND_MOBILE_SMS","captcha_token":"71d******635---{\"x\":237.0,\"y\":5.0}"}`, true},
	{" \t\r\n{ \"a\" : \"1\" , \"b\":\"\" }\n", true},
	{`{}`, true},
	{`{"a":"1","a":"2"}`, true}, // the last one counts, as in encoding/json
	{`{"esc":"\"\\\/\b\f\n\r\t"}`, true},
	{`{"a":"x"}  `, true},
	{``, false},
	{`[]`, false},
	{`{"a":1}`, false},
	{`{"a":"1",}`, false},
	{`{"a":"1"} {}`, false},
	{`{"a":"1"`, false},
	{`{"a" "1"}`, false},
	{`{"a":"\u0041"}`, false},
	{`{"a":"é"}`, false},
	{"{\"a\":\"\x01\"}", false},
	{`{"a":"\x"}`, false},
	{`{"a":"1\`, false},
	{`{a:"1"}`, false},
	{`{"a":{"b":"c"}}`, false},
	{`{"a":null}`, false},
	{"\xef\xbb\xbf{}", false},
}

func TestScanFlat(t *testing.T) {
	for _, c := range flatCases {
		obj, ok := scanFlat([]byte(c.body), 3)
		if ok != c.ok {
			t.Errorf("scanFlat(%q) ok = %v, want %v", c.body, ok, c.ok)
			continue
		}
		if ok {
			checkFlatAgrees(t, []byte(c.body), obj)
		}
	}
}

// FuzzScanFlat: whatever scanFlat accepts, encoding/json decodes to the
// same value, so the fast path never changes what a handler receives.
func FuzzScanFlat(f *testing.F) {
	for _, c := range flatCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if obj, ok := scanFlat(data, 3); ok {
			checkFlatAgrees(t, data, obj)
		}
	})
}

func checkFlatAgrees(t *testing.T, data []byte, obj map[string]any) {
	t.Helper()
	var want any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("scanFlat took %q, which encoding/json refuses: %v", data, err)
	}
	if !reflect.DeepEqual(any(obj), want) {
		t.Fatalf("scanFlat(%q) = %#v, encoding/json %#v", data, obj, want)
	}
}
