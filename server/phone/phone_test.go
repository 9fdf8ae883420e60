package phone_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/phone"
)

// wantCode checks that err is an *apierr.Error with the given code.
func wantCode(t *testing.T, err error, code gen.ErrorCode) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *apierr.Error", err, err)
	}
	if ae.Code != code {
		t.Fatalf("error code %s, want %s (%v)", ae.Code, code, err)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name, raw string
		strict    bool
		want      phone.Number
	}{
		{"OneAccess example, unassigned range", "12345678901", false,
			phone.Number{E164: "+8612345678901", CallingCode: 86, Region: "CN", National: "12345678901"}},
		{"mainland mobile", "13812345678", false,
			phone.Number{E164: "+8613812345678", CallingCode: 86, Region: "CN", National: "13812345678"}},
		{"mainland mobile, strict", "13812345678", true,
			phone.Number{E164: "+8613812345678", CallingCode: 86, Region: "CN", National: "13812345678"}},
		{"mainland in E.164", "+8613812345678", false,
			phone.Number{E164: "+8613812345678", CallingCode: 86, Region: "CN", National: "13812345678"}},
		{"mainland in E.164, strict", "+8613812345678", true,
			phone.Number{E164: "+8613812345678", CallingCode: 86, Region: "CN", National: "13812345678"}},
		{"OneAccess example in E.164 is the same number", "+8612345678901", false,
			phone.Number{E164: "+8612345678901", CallingCode: 86, Region: "CN", National: "12345678901"}},
		{"UK mobile", "+447400123456", false,
			phone.Number{E164: "+447400123456", CallingCode: 44, Region: "GB", National: "7400123456"}},
		{"UK mobile, strict", "+447400123456", true,
			phone.Number{E164: "+447400123456", CallingCode: 44, Region: "GB", National: "7400123456"}},
		{"Guernsey shares +44", "+447911123456", false,
			phone.Number{E164: "+447911123456", CallingCode: 44, Region: "GG", National: "7911123456"}},
		{"UK trunk 0 after the calling code is dropped", "+4407400123456", false,
			phone.Number{E164: "+447400123456", CallingCode: 44, Region: "GB", National: "7400123456"}},
		{"US", "+12015550123", false,
			phone.Number{E164: "+12015550123", CallingCode: 1, Region: "US", National: "2015550123"}},
		{"US, strict (fixed line or mobile)", "+12015550123", true,
			phone.Number{E164: "+12015550123", CallingCode: 1, Region: "US", National: "2015550123"}},
		{"Bahamas shares +1", "+12423570000", false,
			phone.Number{E164: "+12423570000", CallingCode: 1, Region: "BS", National: "2423570000"}},
		{"France mobile", "+33612345678", false,
			phone.Number{E164: "+33612345678", CallingCode: 33, Region: "FR", National: "612345678"}},
		{"Vatican fixed line keeps its leading 0", "+390669812345", false,
			phone.Number{E164: "+390669812345", CallingCode: 39, Region: "VA", National: "0669812345"}},
		{"international freephone, not strict", "+80012345678", false,
			phone.Number{E164: "+80012345678", CallingCode: 800, Region: phone.NonGeographic, National: "12345678"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := phone.Policy{Strict: tt.strict}.Parse(tt.raw)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, raw string
		strict    bool
	}{
		{"empty", "", false},
		{"letters", "abcdefghijk", false},
		{"a letter among digits", "1381234567a", false},
		{"spaces", "138 1234 5678", false},
		{"leading space", " 13812345678", false},
		{"trailing newline", "13812345678\n", false},
		{"dashes", "138-1234-5678", false},
		{"10 digits", "1381234567", false},
		{"12 digits", "138123456789", false},
		{"11 digits starting with 0", "01012345678", false},
		{"11 digits starting with 0 in E.164", "+8601012345678", false},
		{"plus zero", "+0123456789", false},
		{"plus alone", "+", false},
		{"plus and 6 digits", "+123456", false},
		{"plus and 16 digits", "+1234567890123456", false},
		{"plus and space", "+86 13812345678", false},
		{"double plus", "++8613812345678", false},
		{"00 international prefix", "008613812345678", false},
		{"full-width digits", "１２３", false},
		{"full-width 11 digits", "１３８１２３４５６７８", false},
		{"Arabic-Indic digits", "١٣٨١٢٣٤٥٦٧٨", false},
		{"UK drama range is not valid", "+447700900123", false},
		{"unknown calling code", "+99912345678", false},
		{"too short for China", "+861381234", false},
		{"OneAccess example, strict", "12345678901", true},
		{"OneAccess example in E.164, strict", "+8612345678901", true},
		{"mainland landline, strict", "01012345678", true},
		{"freephone, strict", "+80012345678", true},
		{"fixed line, strict", "+390669812345", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := phone.Policy{Strict: tt.strict}.Parse(tt.raw)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want USER.0038", tt.raw, got)
			}
			wantCode(t, err, gen.ErrorCodeMobileInvalid)
			if got != (phone.Number{}) {
				t.Fatalf("Parse(%q) returned %+v with its error", tt.raw, got)
			}
		})
	}
}

func TestParseCountries(t *testing.T) {
	tests := []struct {
		name   string
		policy phone.Policy
		raw    string
		want   gen.ErrorCode // "" = accepted
	}{
		{"allow CN: mainland", phone.Policy{AllowCountries: []string{"CN"}}, "13812345678", ""},
		{"allow CN: unassigned mainland", phone.Policy{AllowCountries: []string{"CN"}}, "12345678901", ""},
		{"allow CN: UK", phone.Policy{AllowCountries: []string{"CN"}}, "+447400123456", gen.ErrorCodeDestinationBlocked},
		{"allow US: Bahamas shares +1", phone.Policy{AllowCountries: []string{"US"}}, "+12423570000", gen.ErrorCodeDestinationBlocked},
		{"allow US: US", phone.Policy{AllowCountries: []string{"US"}}, "+12015550123", ""},
		{"deny GB: UK", phone.Policy{DenyCountries: []string{"GB"}}, "+447400123456", gen.ErrorCodeDestinationBlocked},
		{"deny GB: Guernsey is its own region", phone.Policy{DenyCountries: []string{"GB"}}, "+447911123456", ""},
		{"deny CN: mainland", phone.Policy{DenyCountries: []string{"CN"}}, "12345678901", gen.ErrorCodeDestinationBlocked},
		{"deny CN: mainland in E.164", phone.Policy{DenyCountries: []string{"CN"}}, "+8613812345678", gen.ErrorCodeDestinationBlocked},
		{"deny non-geographic", phone.Policy{DenyCountries: []string{phone.NonGeographic}}, "+80012345678", gen.ErrorCodeDestinationBlocked},
		{"allow list excludes non-geographic", phone.Policy{AllowCountries: []string{"FR"}}, "+80012345678", gen.ErrorCodeDestinationBlocked},
		{"allow and deny: deny wins", phone.Policy{AllowCountries: []string{"GB", "FR"}, DenyCountries: []string{"FR"}}, "+33612345678", gen.ErrorCodeDestinationBlocked},
		{"allow and deny: allowed", phone.Policy{AllowCountries: []string{"GB", "FR"}, DenyCountries: []string{"FR"}}, "+447400123456", ""},
		{"invalid before blocked", phone.Policy{DenyCountries: []string{"GB"}}, "+447700900123", gen.ErrorCodeMobileInvalid},
		{"strict with allow list", phone.Policy{Strict: true, AllowCountries: []string{"CN"}}, "12345678901", gen.ErrorCodeMobileInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Parse does not need a validated policy: the "deny wins" cases
			// list a region twice, which Validate refuses.
			n, err := tt.policy.Parse(tt.raw)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tt.raw, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want %s", tt.raw, n, tt.want)
			}
			wantCode(t, err, tt.want)
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		policy  phone.Policy
		wantErr string // substring; "" = valid
	}{
		{"zero value", phone.Policy{}, ""},
		{"known regions", phone.Policy{AllowCountries: []string{"CN", "HK", "MO", "TW"}, DenyCountries: []string{"NG"}}, ""},
		{"non-geographic", phone.Policy{DenyCountries: []string{phone.NonGeographic}}, ""},
		{"UK is not a code", phone.Policy{AllowCountries: []string{"UK"}}, `allow_countries: unknown region code "UK"`},
		{"lower case", phone.Policy{DenyCountries: []string{"cn"}}, `deny_countries: unknown region code "cn"`},
		{"empty code", phone.Policy{DenyCountries: []string{""}}, `unknown region code ""`},
		{"unknown region ZZ", phone.Policy{AllowCountries: []string{"ZZ"}}, `unknown region code "ZZ"`},
		{"alpha-3", phone.Policy{AllowCountries: []string{"CHN"}}, `unknown region code "CHN"`},
		{"both lists", phone.Policy{AllowCountries: []string{"CN"}, DenyCountries: []string{"CN"}}, `"CN" is in both`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNonGeographicMatchesLibrary(t *testing.T) {
	if phone.NonGeographic != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		t.Fatalf("NonGeographic = %q, library says %q", phone.NonGeographic, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY)
	}
}

func TestPrefix(t *testing.T) {
	n := phone.Number{E164: "+8613812345678", CallingCode: 86, Region: "CN", National: "13812345678"}
	tests := []struct {
		digits int
		want   string
	}{
		{-1, "+86"},
		{0, "+86"},
		{3, "+86138"},
		{7, "+861381234"},
		{11, "+8613812345678"},
		{99, "+8613812345678"},
	}
	for _, tt := range tests {
		if got := n.Prefix(tt.digits); got != tt.want {
			t.Errorf("Prefix(%d) = %q, want %q", tt.digits, got, tt.want)
		}
	}
}

func TestNumberPrintsMasked(t *testing.T) {
	n, err := phone.Policy{}.Parse("13812345678")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(n); got != "+86 138****5678" {
		t.Errorf("fmt.Sprint = %q", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("send", "mobile", n)
	if out := buf.String(); strings.Contains(out, "13812345678") || !strings.Contains(out, `mobile="+86 138****5678"`) {
		t.Errorf("slog output %q", out)
	}
}
