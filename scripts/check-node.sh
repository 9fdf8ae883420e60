#!/usr/bin/env bash
# check-node.sh: fail early, with the version found, when Node.js is older than the
# pinned npm tools accept (package.json "engines": @redocly/cli 2.77.0 needs 22.12+ or
# 20.19+ on the 20 line; Spectral 20.17+). Called by `make tools`.
set -euo pipefail
v=$(node --version 2>/dev/null) || { echo "make tools: node is not installed; install Node.js 22 LTS (or 20.19+) with npm 10+" >&2; exit 1; }
IFS=. read -r major minor _ <<<"${v#v}"
if ((major > 22 || (major == 22 && minor >= 12) || (major == 20 && minor >= 19))); then
	exit 0
fi
echo "make tools: Node.js $v is not supported by the pinned npm tools: install Node.js 22.12+ (or 20.19+)" >&2
exit 1
