package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSkipGroupReports(t *testing.T) {
	report := filepath.Join(t.TempDir(), "skips")
	t.Setenv(SkipReportEnv, report)
	t.Setenv("SMSCODE_REQUIRE_TESTGROUP", "")
	ran := false
	t.Run("skipped", func(t *testing.T) {
		SkipGroup(t, "test group", "SMSCODE_REQUIRE_TESTGROUP", "install it", "not here")
		ran = true
	})
	if ran {
		t.Fatal("SkipGroup returned instead of skipping")
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if want := "test group\tinstall it\tSMSCODE_REQUIRE_TESTGROUP\n"; string(b) != want {
		t.Fatalf("report = %q, want %q", b, want)
	}
}

// TestSkipSummary runs the script that prints `make test`'s last line on a
// report SkipGroup wrote, and on none.
func TestSkipSummary(t *testing.T) {
	report := filepath.Join(t.TempDir(), "skips")
	t.Setenv(SkipReportEnv, report)
	t.Setenv("SMSCODE_REQUIRE_TESTGROUP", "")
	for range 2 {
		t.Run("skipped", func(t *testing.T) {
			SkipGroup(t, "test group", "SMSCODE_REQUIRE_TESTGROUP", "install it", "not here")
		})
	}
	summary := func() string {
		out, err := exec.Command("bash", "../../scripts/skip-summary.sh", report).CombinedOutput()
		if err != nil {
			t.Fatalf("skip-summary.sh: %v\n%s", err, out)
		}
		return string(out)
	}
	got := summary()
	if !strings.Contains(got, "SKIPPED") || !strings.Contains(got, "test group: 2 test(s) skipped; to run them: install it (or SMSCODE_REQUIRE_TESTGROUP=1") {
		t.Fatalf("summary of two skips:\n%s", got)
	}
	if err := os.Remove(report); err != nil {
		t.Fatal(err)
	}
	if got := summary(); !strings.Contains(got, "every test group ran") {
		t.Fatalf("summary without skips:\n%s", got)
	}
}
