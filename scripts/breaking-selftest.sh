#!/usr/bin/env bash
# Proves that `make breaking` catches a breaking change: makes copies of the spec
# with deliberately breaking edits and asserts that oasdiff fails on each, naming
# the expected check, while the unmodified spec (and a mere addition) passes.
#
# Usage: scripts/breaking-selftest.sh [SPEC]      (SPEC defaults to openapi.yaml)
# OASDIFF names the oasdiff command (the Makefile passes its pinned `go run`).
set -euo pipefail

cd "$(dirname "$0")/.."
spec=${1:-openapi.yaml}
OASDIFF=${OASDIFF:-go run github.com/oasdiff/oasdiff@v1.37.0}
read -r -a oasdiff <<<"$OASDIFF"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
pass() { echo "  ok:   $*"; }
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }

# breaking BASE REVISION -> prints oasdiff's output to $tmp/out, returns its exit code.
breaking() {
	"${oasdiff[@]}" breaking "$1" "$2" --fail-on ERR --allow-external-refs=false --color never >"$tmp/out" 2>&1
}

# edit NAME AWK_PROGRAM: writes $tmp/NAME.yaml, the spec changed by the awk program,
# and fails the self-test if the program changed nothing (the spec moved on).
edit() {
	awk "$2" "$spec" >"$tmp/$1.yaml"
	if cmp -s "$spec" "$tmp/$1.yaml"; then
		fail "$1: the edit did not apply to $spec; update scripts/breaking-selftest.sh"
		return 1
	fi
}

# expect_breaking NAME CHECK_ID: the edited copy must fail against the spec with CHECK_ID.
expect_breaking() {
	local rc=0
	breaking "$spec" "$tmp/$1.yaml" || rc=$?
	if [[ $rc -eq 0 ]]; then
		fail "$1: oasdiff exited 0; a breaking change went unnoticed"
		sed 's/^/        /' "$tmp/out"
	elif ! grep -q "\[$2\]" "$tmp/out"; then
		fail "$1: oasdiff exited $rc without reporting [$2]"
		sed 's/^/        /' "$tmp/out"
	else
		pass "$1: caught as [$2] (exit $rc)"
	fi
}

echo "breaking-selftest: $spec with ${OASDIFF}"

# 1. The unmodified spec has no breaking change against itself.
if breaking "$spec" "$spec"; then
	pass "unmodified spec passes"
else
	fail "unmodified spec: oasdiff failed against itself"
	sed 's/^/        /' "$tmp/out"
fi

# 2. A request enum loses a value: clients sending OTP_REST_SMS would be refused.
if edit no-otp-scenario '
	/^        - OTP_REST_SMS$/ { next }
	/^        - OtpRest$/ { next }
	{ print }'; then
	expect_breaking no-otp-scenario request-property-enum-value-removed
fi

# 3. An optional request header becomes required: old clients that omit it break.
if edit device-ip-required '
	/^      name: X-device-ip$/ { in_ip = 1 }
	in_ip && /^      required: false$/ { print "      required: true"; in_ip = 0; next }
	{ print }'; then
	expect_breaking device-ip-required request-parameter-became-required
fi

# 4. An operation disappears.
if edit no-verify-path '
	/^  \/api\/v2\/sdk\/sms\/verify:$/ { skip = 1; next }
	skip && /^(  )?[^ ]/ { skip = 0 }
	skip { next }
	{ print }'; then
	expect_breaking no-verify-path api-path-removed-without-deprecation

	# 5. The reverse, adding an operation, is not breaking.
	if breaking "$tmp/no-verify-path.yaml" "$spec"; then
		pass "adding an operation passes"
	else
		fail "adding an operation was reported as breaking"
		sed 's/^/        /' "$tmp/out"
	fi
fi

if [[ $failures -gt 0 ]]; then
	echo "breaking-selftest: $failures failure(s)"
	exit 1
fi
echo "breaking-selftest: all checks passed"
