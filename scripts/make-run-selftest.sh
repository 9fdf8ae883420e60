#!/usr/bin/env bash
# make-run-selftest.sh: what a newcomer sees of `make run`, checked (a CI step).
# It starts `make run` in a process group of its own, as a terminal would, waits for
# /healthz, then sends SIGINT to the whole group (what Ctrl-C does) and checks that
# the output said it was building first, and that make exited quietly: status 0 or
# death by SIGINT (130), and no "make: ***" error line.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
port=${PORT:-18089}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

setsid make --no-print-directory run ADDR=127.0.0.1:$port >"$out" 2>&1 &
pid=$!
# The first build can take minutes on a cold machine.
for ((i = 0; i < 600; i++)); do
	if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "make-run-selftest: make run exited before /healthz answered:" >&2; cat "$out" >&2; exit 1
	fi
	sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "make-run-selftest: /healthz never answered" >&2; cat "$out" >&2; kill -TERM -- -"$pid"; exit 1; }

kill -INT -- -"$pid"
rc=0
for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then
	echo "make-run-selftest: make run still running 30 s after Ctrl-C" >&2; kill -KILL -- -"$pid"; exit 1
fi
wait "$pid" || rc=$?
cat "$out"
fail=0
head -n 1 "$out" | grep -q '^make run: building' || { echo "make-run-selftest: the first line does not say it is building" >&2; fail=1; }
if grep -q 'make: \*\*\*' "$out"; then echo "make-run-selftest: make printed an error on Ctrl-C" >&2; fail=1; fi
if [[ $rc -ne 0 && $rc -ne 130 ]]; then echo "make-run-selftest: make run exited $rc after Ctrl-C" >&2; fail=1; fi
grep -q '"msg":"stopped"' "$out" || { echo "make-run-selftest: the server did not log that it stopped" >&2; fail=1; }
[[ $fail -eq 0 ]] && echo "make-run-selftest: ok (exit $rc, quiet)"
exit $fail
