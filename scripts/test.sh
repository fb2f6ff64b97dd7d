#!/usr/bin/env bash
# Builds and runs every test: unit, integration and the security attack suite (real httpd,
# memcached, SMTP, PostgreSQL), the browser journey, and, when clang-14 is present, the libFuzzer
# targets in a separate build. Exits non-zero when any step fails; prints a summary at the end.
# Usage: scripts/test.sh   (as root on Debian 12; env JOBS, BUILD_DIR, FUZZ_BUILD_DIR)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
JOBS=${JOBS:-2}
BUILD=${BUILD_DIR:-build}            # overridable so parallel checkouts need not share one
FUZZ_BUILD=${FUZZ_BUILD_DIR:-build-fuzz}

declare -a SUMMARY=()
FAILED=0

# step NAME COMMAND...: runs the command, records PASS/FAIL with its duration.
step() {
  local name=$1 start rc
  shift
  echo
  echo "==== $name: $*"
  start=$(date +%s)
  "$@"
  rc=$?
  local took=$(($(date +%s) - start))
  if ((rc == 0)); then
    SUMMARY+=("PASS  $name (${took}s)")
  else
    SUMMARY+=("FAIL  $name (exit $rc, ${took}s)")
    FAILED=1
  fi
  return $rc
}

skip() {
  SUMMARY+=("SKIP  $1 ($2)")
}

summary() {
  echo
  echo "==================== summary ===================="
  printf '%s\n' "${SUMMARY[@]}"
  if ((FAILED)); then
    echo "RESULT: FAILED"
  else
    echo "RESULT: all passed"
  fi
}

# shellcheck disable=SC2317  # called through step()
# Runs the fuzz tests: by label when tests/fuzz sets LABELS fuzz, else by name (fuzz.*).
run_fuzz_tests() {
  local n
  n=$(ctest --test-dir "$FUZZ_BUILD" -N -L fuzz | sed -n 's/^Total Tests: //p')
  if [[ "${n:-0}" -gt 0 ]]; then
    ctest --test-dir "$FUZZ_BUILD" -L fuzz --output-on-failure -j"$JOBS"
    return
  fi
  n=$(ctest --test-dir "$FUZZ_BUILD" -N -R '^fuzz\.' | sed -n 's/^Total Tests: //p')
  if [[ "${n:-0}" -eq 0 ]]; then
    echo "no fuzz tests are registered (label fuzz or name fuzz.*) in $FUZZ_BUILD" >&2
    return 1
  fi
  ctest --test-dir "$FUZZ_BUILD" -R '^fuzz\.' --output-on-failure -j"$JOBS"
}

step "install-deps" scripts/install-deps.sh || { summary; exit 1; }

if step "configure" cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
   step "build" cmake --build "$BUILD" -j"$JOBS"; then
  step "ctest (unit + integration)" ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS"
else
  skip "ctest (unit + integration)" "build failed"
fi

if command -v clang-14 >/dev/null 2>&1; then
  if step "fuzz configure" env CC=clang-14 CXX=clang++-14 \
         cmake -S "$ROOT" -B "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATOMEDIA_FUZZ=ON &&
     step "fuzz build" cmake --build "$FUZZ_BUILD" -j"$JOBS" --target fuzz_targets; then
    step "ctest (fuzz)" run_fuzz_tests
  else
    skip "ctest (fuzz)" "fuzz build failed"
  fi
else
  skip "fuzz" "clang-14 not installed"
fi

summary
exit $FAILED
