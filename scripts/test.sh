#!/usr/bin/env bash
# Installs what is missing, builds poolwatch and runs every test suite (unit, integration, e2e).
# Usage: scripts/test.sh [ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# POOLWATCH_WERROR=ON (CI) makes every warning an error.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_COMPILE_WARNING_AS_ERROR="${POOLWATCH_WERROR:-OFF}" >/dev/null
cmake --build build --parallel "$(nproc)"
# A test skipped for want of a program is a test that did not run: the run fails, so a package
# missing from scripts/install-deps.sh shows here rather than as a quietly shorter suite.
# POOLWATCH_ALLOW_SKIPS=1 accepts skips (e.g. the package install test as a non-root user).
log=build/ctest-last.log
set +e
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 300 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
skipped=$(grep -c ' (Skipped)$' "$log" || true)
if [ "$status" -eq 0 ] && [ "$skipped" -gt 0 ] && [ "${POOLWATCH_ALLOW_SKIPS:-0}" != 1 ]; then
  echo "test.sh: $skipped test(s) skipped (listed above with their reason): every test must run." >&2
  echo "test.sh: install what they need (scripts/install-deps.sh), run as root for the package" >&2
  echo "test.sh: install test, or set POOLWATCH_ALLOW_SKIPS=1 to accept skips." >&2
  exit 1
fi
exit "$status"
