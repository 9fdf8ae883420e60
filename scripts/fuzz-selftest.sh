#!/usr/bin/env bash
# Proves that scripts/fuzz.sh tells Go's fuzztime deadline race from a real
# finding: it runs fuzz.sh against a fake `go` whose fuzz runs pass, race,
# crash or fail in chosen ways, and asserts fuzz.sh's verdict for each.
# A tolerant classifier that let a crasher through would make `make fuzz`
# worthless, so this runs before every `make fuzz`.
#
# Usage: scripts/fuzz-selftest.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A fake package with one fuzz target.
mkdir -p "$tmp/pkg"
printf 'package pkg\n\nfunc FuzzX(f *testing.F) {}\n' >"$tmp/pkg/x_test.go"

# The fake go: `list` and `test -list` describe the package; a fuzz run
# replays the next line of $tmp/script (pass, race, crash, fail); a corpus
# replay (-count=1) passes unless $tmp/replay says fail.
cat >"$tmp/go" <<'FAKE'
#!/usr/bin/env bash
tmp=$(dirname "$0")
case "$1 $2" in
"list -f")
	if [[ $3 == '{{.Dir}}' ]]; then echo "$tmp/pkg"; else echo "example.com/pkg $tmp/pkg x_test.go "; fi
	exit 0 ;;
"test -list") echo FuzzX; echo "ok example.com/pkg"; exit 0 ;;
"test -count=1")
	[[ $(cat "$tmp/replay" 2>/dev/null) == fail ]] && { echo "--- FAIL: FuzzX/seed#0"; exit 1; }
	echo ok; exit 0 ;;
esac
n=$(cat "$tmp/n" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$tmp/n"
case $(sed -n "${n}p" "$tmp/script") in
pass) echo PASS; exit 0 ;;
race) printf -- '--- FAIL: FuzzX (5.07s)\n    context deadline exceeded\nFAIL\n'; exit 1 ;;
crash)
	mkdir -p "$tmp/pkg/testdata/fuzz/FuzzX" && echo 'go test fuzz v1' >"$tmp/pkg/testdata/fuzz/FuzzX/abc"
	printf -- '--- FAIL: FuzzX (1.00s)\n    --- FAIL: FuzzX (0.00s)\n        x_test.go:9: boom\n    Failing input written to testdata/fuzz/FuzzX/abc\nFAIL\n'; exit 1 ;;
deadline-in-target)
	printf -- '--- FAIL: FuzzX (5.00s)\n    --- FAIL: FuzzX (0.00s)\n        x_test.go:12: call: context deadline exceeded\n    context deadline exceeded\nFAIL\n'; exit 1 ;;
race-with-file) # the deadline line, but an input was written (no message says so)
	mkdir -p "$tmp/pkg/testdata/fuzz/FuzzX" && echo 'go test fuzz v1' >"$tmp/pkg/testdata/fuzz/FuzzX/def"
	printf -- '--- FAIL: FuzzX (5.07s)\n    context deadline exceeded\nFAIL\n'; exit 1 ;;
plain-fail) # no deadline line, nothing written: some other failure
	printf -- '--- FAIL: FuzzX (1.00s)\nFAIL\n'; exit 1 ;;
race-with-panic)
	printf -- 'panic: runtime error: index out of range\n--- FAIL: FuzzX (5.07s)\n    context deadline exceeded\nFAIL\n'; exit 1 ;;
*) echo "fake go: no script line $n" >&2; exit 2 ;;
esac
FAKE
chmod +x "$tmp/go"

failures=0
# expect NAME WANT_EXIT REPLAY SCRIPT_LINES...
expect() {
	local name=$1 want=$2 replay=$3 rc=0
	shift 3
	rm -rf "$tmp/n" "$tmp/pkg/testdata"
	printf '%s\n' "$@" >"$tmp/script"
	echo "$replay" >"$tmp/replay"
	GO="$tmp/go" FUZZTIME=1s "$root/scripts/fuzz.sh" ./... >"$tmp/out" 2>&1 || rc=$?
	if [[ $rc -eq $want ]]; then
		echo "  ok:   $name (exit $rc)"
	else
		echo "  FAIL: $name: exit $rc, want $want"; sed 's/^/        /' "$tmp/out"
		failures=$((failures + 1))
	fi
}

echo "fuzz-selftest: fuzz.sh's verdicts"
expect "a clean run passes" 0 pass pass
expect "a real crasher fails" 1 pass crash pass pass
expect "one deadline race, then a clean run, passes" 0 pass race pass
expect "two deadline races in a row pass with a warning" 0 pass race race
expect "a race whose corpus replay fails, fails" 1 fail race
# Each guard alone: the runs after the faulty one pass, so a guard that
# stopped working would turn the case into a tolerated race and exit 0.
expect "a target that itself failed with a deadline error fails" 1 pass deadline-in-target pass pass
expect "a deadline race that wrote an input fails" 1 pass race-with-file pass pass
expect "a deadline race with a panic fails" 1 pass race-with-panic pass pass
expect "a failure that is not the deadline race fails" 1 pass plain-fail pass pass
expect "a crasher after a race fails, however the retry goes" 1 pass race crash pass
if [[ $failures -ne 0 ]]; then
	echo "fuzz-selftest: $failures case(s) wrong" >&2
	exit 1
fi
echo "fuzz-selftest: all cases right"
