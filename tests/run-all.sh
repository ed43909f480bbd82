#!/bin/sh
# Build kemu (warnings are errors) and run every test suite; the last line
# is "N passed, N failed" (counting test programs as meson reports them,
# plus the individual checks of the functional scripts they run).
set -e
cd "$(dirname "$0")/.."
tests/deps.sh test
if [ ! -f build-ci/build.ninja ]; then
    meson setup build-ci -Dwerror=true >/dev/null
fi
ninja -C build-ci
set +e
meson test -C build-ci --print-errorlogs --num-processes 2 "$@"
status=$?
set -e
python3 - build-ci/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t.get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r == "SKIP":
        skipped += 1
    else:
        failed += 1
        print(f"failed: {t.get('name')} ({r})")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
