#!/usr/bin/env bash
# Type-checks the TypeScript code samples of openapi.yaml: copies each
# examples/samples/<operationId>/sample.ts into build/ts-samples/ beside the
# types openapi-typescript generates from the spec (smscode.d.ts, which the
# samples import as "./smscode"), and runs tsc --noEmit on them, with the
# pinned tools of examples/samples/ts (npm ci, from its package-lock.json).
# internal/codesamples checks that the spec's samples are these files.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
spec=$(realpath "${1:-$root/openapi.yaml}")
out=$root/build/ts-samples
npx=(npx --no-install)

mkdir -p "$out"
cp "$root"/examples/samples/ts/{package.json,package-lock.json,tsconfig.json} "$out"/
if ! cmp -s "$out/package-lock.json" "$out/node_modules/.package-lock.json.ci" 2>/dev/null; then
	(cd "$out" && npm ci --no-audit --no-fund)
	cp "$out/package-lock.json" "$out/node_modules/.package-lock.json.ci"
fi
rm -f "$out"/*.ts
n=0
for f in "$root"/examples/samples/*/sample.ts; do
	op=$(basename "$(dirname "$f")")
	cp "$f" "$out/$op.ts"
	n=$((n + 1))
done
# Type-level tests of the generated types (error-codes.ts: the known error codes
# are named, an unknown one still type-checks as a response's error_code).
for f in "$root"/examples/samples/ts/*.ts; do
	cp "$f" "$out/"
	n=$((n + 1))
done
cd "$out"
"${npx[@]}" openapi-typescript "$spec" -o smscode.d.ts
"${npx[@]}" tsc -p .
echo "check-ts-samples: $n TypeScript files (samples and type tests) type-check against $(basename "$spec")"
