package apierr_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/server/apierr"
)

// Every enum value of ErrorCode has exactly one catalog row, and the other
// way round: the machine-readable list and the enum cannot drift apart.
func TestCatalogMatchesEnum(t *testing.T) {
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	enum := spec.Components.Schemas["ErrorCode"].Value.Enum
	inCatalog := map[gen.ErrorCode]bool{}
	for _, e := range apierr.Catalog() {
		inCatalog[e.Code] = true
	}
	if len(enum) != len(inCatalog) {
		t.Fatalf("ErrorCode enum has %d values, x-error-codes %d", len(enum), len(inCatalog))
	}
	for _, v := range enum {
		if !inCatalog[gen.ErrorCode(v.(string))] {
			t.Errorf("%v is in the enum but not in x-error-codes", v)
		}
		if !gen.ErrorCode(v.(string)).Valid() {
			t.Errorf("%v is not Valid()", v)
		}
	}
}

// The page's "Error codes" table (in info.description, which portals render
// as a section of its own, linked from every operation) agrees with the
// catalog on every status it lists, and lists each code once.
// (internal/codesamples checks that it lists every code, and that each
// operation's list of codes agrees with it.)
func TestErrorCodesSectionAgreesWithCatalog(t *testing.T) {
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| (\d{3}) \| ([A-Z]+\.\d{4}) \|`)
	rows := row.FindAllStringSubmatch(spec.Info.Description, -1)
	if len(rows) == 0 {
		t.Fatal("info.description has no error-code table")
	}
	seen := map[string]bool{}
	for _, r := range rows {
		e, ok := apierr.Lookup(gen.ErrorCode(r[2]))
		if !ok {
			t.Errorf("the table lists %s, which is not in the catalog", r[2])
			continue
		}
		if fmt.Sprint(e.Status) != r[1] {
			t.Errorf("the table lists %s as %s; the catalog says %d", r[2], r[1], e.Status)
		}
		if seen[r[2]] {
			t.Errorf("the table lists %s twice", r[2])
		}
		seen[r[2]] = true
	}
}

// The OneAccess codes keep OneAccess's meaning and status (all 400).
func TestOneAccessCodes(t *testing.T) {
	want := []gen.ErrorCode{"APP.0001", "APP.0002", "APP.0003", "PARAM.0005",
		"CAPTCHA.0002", "CAPTCHA.0003", "CAPTCHA.0004", "CAPTCHA.0005", "USER.0038"}
	for _, c := range want {
		e, ok := apierr.Lookup(c)
		if !ok || !e.OneAccess || e.Status != http.StatusBadRequest {
			t.Errorf("%s: got %+v, want a OneAccess code with status 400", c, e)
		}
	}
	if m := apierr.Message(gen.ErrorCodeAppNotFound, "en"); m != "Application does not exist." {
		t.Errorf("APP.0001 en = %q", m)
	}
}

func TestMessageLanguage(t *testing.T) {
	tests := []struct {
		lang    string
		chinese bool
	}{
		{"zh", true}, {"ZH", true}, {"zh-CN", true}, {"zh_Hans", true},
		{"en", false}, {"", false}, {"zhx", false}, {"fr", false}, {"z", false},
	}
	for _, tt := range tests {
		got := apierr.Message(gen.ErrorCodeMobileInvalid, tt.lang)
		want := "Invalid mobile number."
		if tt.chinese {
			want = "手机号格式不正确。"
		}
		if got != want {
			t.Errorf("Message(USER.0038, %q) = %q, want %q", tt.lang, got, want)
		}
	}
}

func TestErrorValues(t *testing.T) {
	err := fmt.Errorf("sending: %w", apierr.Retry(gen.ErrorCodeTooFrequent, 1500*time.Millisecond))
	var e *apierr.Error
	if !errors.As(err, &e) || e.Status() != http.StatusTooManyRequests || e.RetryAfterSeconds() != 2 {
		t.Fatalf("got %+v", e)
	}
	if !errors.Is(err, apierr.New(gen.ErrorCodeTooFrequent)) || errors.Is(err, apierr.New(gen.ErrorCodeIPLimit)) {
		t.Error("errors.Is should match on the code alone")
	}
	cause := os.ErrDeadlineExceeded
	if got := apierr.From(cause); got.Code != gen.ErrorCodeInternal || !errors.Is(got, cause) {
		t.Errorf("From(plain error) = %+v", got)
	}
	if s := apierr.Wrap(gen.ErrorCodeStoreUnavailable, cause).Error(); !strings.Contains(s, "SYS.0002") {
		t.Errorf("Error() = %q", s)
	}
}

// README.md's error-code table lists every code with its status and English
// message, so that what people read is what the server answers.
func TestREADMEListsEveryCode(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, e := range apierr.Catalog() {
		row := fmt.Sprintf("| `%s` | %d | %s |", e.Code, e.Status, e.English)
		if !strings.Contains(readme, row) {
			t.Errorf("README.md has no row %q", row)
		}
	}
}
