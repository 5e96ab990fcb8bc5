#!/usr/bin/env bash
# The test command: installs what it needs (Debian 12), builds with ASan + UBSan, runs every
# test (unit, fuzz replays, end-to-end), and ends with "N passed, N failed".
# Run as root: the end-to-end tests use network namespaces and raw sockets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=build-test
if [ -d "$build" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$build"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=report_objects=1
set +e
meson test -C "$build" --print-errorlogs --num-processes 2
set -e
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("result") in ("OK", "EXPECTEDFAIL"):
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {r.get('name')} ({r.get('result')})")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
PY
