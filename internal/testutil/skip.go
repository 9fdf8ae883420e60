package testutil

import (
	"fmt"
	"os"
	"testing"
)

// SkipReportEnv names a file that SkipGroup appends a line to for every
// skipped test; `make test` sets it and, at the end, prints which groups
// skipped and how to enable them (scripts/skip-summary.sh), so that a run
// without Redis or Chromium says so in its last lines, not only in -v output.
const SkipReportEnv = "SMSCODE_SKIP_REPORT"

// SkipGroup skips t because something a group of tests needs is missing:
// group names it ("real Redis"), requireEnv is the variable that turns the
// skip into a failure ("SMSCODE_REQUIRE_REDIS"), and how says how to get
// it ("apt-get install redis-server"). When requireEnv is 1, the test fails
// instead: CI sets it, so that a group cannot silently vanish there.
func SkipGroup(t testing.TB, group, requireEnv, how, reason string) {
	t.Helper()
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s: %s, and %s=1", group, reason, requireEnv)
	}
	if path := os.Getenv(SkipReportEnv); path != "" {
		// One short line per skip, appended: the packages' test binaries
		// run in parallel, and O_APPEND writes this small do not interleave.
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			fmt.Fprintf(f, "%s\t%s\t%s\n", group, how, requireEnv)
			f.Close()
		}
	}
	t.Skipf("%s: %s; %s, or set %s=1 to fail instead", group, reason, how, requireEnv)
}
