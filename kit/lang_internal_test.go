package kit

import (
	"testing"

	"github.com/smscode/smscode/gen/genserver"
)

func TestRequestLang(t *testing.T) {
	for _, tc := range []struct {
		xl, want string
		list     bool
	}{
		{"", "", true},
		{"zh", "zh", true},
		{"en", "en", true},
		{"EN", "en", true},
		{"zh-CN", "zh", true},
		{"zh_CN", "zh", true},
		{"en_US", "en", true},
		{"zh-TW", "zh", true},
		{"zh-Hant-HK", "zh", true},
		{"en-US,zh;q=0.9", "en", true},
		{"zh-CN,zh;q=0.9", "zh", true},
		{"zh-HK,en;q=0.8", "zh", true},
		{"en;q=0.5,zh", "zh", true}, // q order, not written order
		{"fr,zh;q=0.5", "zh", true},
		{"ja;q=0,en", "en", true}, // q=0: not wanted
		{"*", "", true},
		{"fr", "", true},
		{"de-CH, fr;q=0.1", "", true},
		{"i-klingon", "", true},
		{"  en  ", "en", true},
		{"EN-us", "en", true},
		{"zh-Hant-TW", "zh", true},
		{"ZH_hant_tw", "zh", true},
		{"abc", "", true},
		{"de_DE", "", true},
		{"en-", "", false},
		{"en--US", "", false},
		{"x", "", false},
		{"en!", "", false},
		{"en;q=abc", "", false},
		{"a,b,c", "", false},
	} {
		if got := isLanguageList(tc.xl); got != tc.list {
			t.Errorf("isLanguageList(%q) = %v, want %v", tc.xl, got, tc.list)
		}
		if got := RequestLang(tc.xl); got != tc.want {
			t.Errorf("RequestLang(%q) = %q, want %q", tc.xl, got, tc.want)
		}
	}
}

// maxLanguageList is the spec's maxLength of X-L.
func TestMaxLanguageListIsTheSpecs(t *testing.T) {
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Components.Parameters["XL"]
	if p == nil || p.Value == nil || p.Value.Schema == nil || p.Value.Schema.Value.MaxLength == nil {
		t.Fatal("openapi.yaml has no X-L parameter XL with a maxLength")
	}
	if got := *p.Value.Schema.Value.MaxLength; got != maxLanguageList {
		t.Errorf("X-L maxLength %d in openapi.yaml, maxLanguageList %d", got, maxLanguageList)
	}
}
