#!/usr/bin/env bash
# skip-summary.sh REPORT: the last line of `make test`. REPORT is the file that
# internal/testutil.SkipGroup appends to (group, how to enable it, the variable that
# makes the skip fatal) for each test it skipped; this prints each group once with
# its count, or that every group ran.
set -euo pipefail
report=$1
if [[ ! -s $report ]]; then
	echo "make test: every test group ran (real Redis, Chromium, curl, root)"
	exit 0
fi
echo "make test: SKIPPED test groups (these tests did not run):"
sort "$report" | uniq -c | while read -r n line; do
	IFS=$'\t' read -r group how env <<<"$line"
	printf '  - %s: %d test(s) skipped; to run them: %s (or %s=1 to fail instead of skipping)\n' "$group" "$n" "$how" "$env"
done
