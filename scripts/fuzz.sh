#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one after another, each for a
# fixed time, and stops at the first failure (a crasher is written to the
# package's testdata/fuzz/<Target>/ by go test; commit it as a regression
# seed once the bug is fixed).
#
# Usage: scripts/fuzz.sh [package pattern...]   (default ./...)
# Environment:
#   FUZZTIME          how long each target runs (default 10s; CI uses 5s)
#   FUZZMINIMIZETIME  bound on minimising each new input (default 5s: the
#                     default 60s would eat a short run)
#   FUZZPARALLEL      fuzzing workers per target (default: go test's, GOMAXPROCS)
#   GO                the go command (default go)
#
# Targets are found by `go test -list`, in the packages whose test files
# declare a func Fuzz...: a new target is run without editing this script.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-5s}
patterns=("$@")
[[ ${#patterns[@]} -gt 0 ]] || patterns=(./...)

parallel=()
[[ -z ${FUZZPARALLEL:-} ]] || parallel=(-parallel "$FUZZPARALLEL")

# Only packages with a fuzz target are compiled for -list: compiling every
# package's tests would take longer than fuzzing.
mapfile -t pkgs < <(
	"$GO" list -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' "${patterns[@]}" |
		while read -r pkg dir files; do
			for f in $files; do
				if grep -q '^func Fuzz[A-Z_0-9]' "$dir/$f"; then
					echo "$pkg"
					break
				fi
			done
		done
)
if [[ ${#pkgs[@]} -eq 0 ]]; then
	echo "fuzz: no fuzz targets in ${patterns[*]}" >&2
	exit 1
fi

count=0
start=$SECONDS
for pkg in "${pkgs[@]}"; do
	mapfile -t targets < <("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in "${targets[@]}"; do
		printf '==> %s %s (%s)\n' "$pkg" "$target" "$FUZZTIME"
		# -run '^$': the unit tests are make test's job; the target's seed
		# corpus runs first as part of fuzzing anyway.
		if ! "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" \
			-fuzzminimizetime "$FUZZMINIMIZETIME" "${parallel[@]}" "$pkg"; then
			echo "fuzz: $pkg $target FAILED; the failing input is in that package's testdata/fuzz/$target/" >&2
			exit 1
		fi
		count=$((count + 1))
	done
done
printf 'fuzz: %d targets passed in %ds\n' "$count" $((SECONDS - start))
