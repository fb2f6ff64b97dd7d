#!/usr/bin/env bash
# Memory and undefined-behaviour checks of the whole suite (issue 8):
#   1. an ASan+UBSan build (-DNATOMEDIA_SANITIZE=ON) in $ASAN_BUILD_DIR, its unit tests under
#      ctest (every sanitizer report is fatal: halt_on_error, -fno-sanitize-recover via options);
#   2. the integration tests against that build's sanitized module, inside the stock (not
#      sanitized) httpd: libasan and libubsan are LD_PRELOADed into apache2 alone (a wrapper
#      the harness is pointed at), leak checking off (httpd frees its pools, not its mallocs);
#      any "AddressSanitizer"/"runtime error" line in an error log fails the test (the harness
#      keeps the log; proof_support.crash_lines looks for them);
#   3. valgrind --error-exitcode=1 --leak-check=full on the unit tests of the normal build
#      ($BUILD_DIR), a selection by default (VALGRIND_TESTS="all" for every one).
# Usage: scripts/check-sanitizers.sh [unit|integration|valgrind|all]   (default all)
# Environment: ASAN_BUILD_DIR (build-asan), BUILD_DIR (build), JOBS (2),
#              INTEGRATION_TESTS (ctest -R regex, default every integration test),
#              VALGRIND_TESTS (space-separated executables under BUILD/tests, or "all").
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
ASAN_BUILD=${ASAN_BUILD_DIR:-build-asan}
BUILD=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
WHAT=${1:-all}
FAILED=0
declare -a SUMMARY=()

note() { SUMMARY+=("$1"); }

asan_lib() { gcc -print-file-name=libasan.so; }
ubsan_lib() { gcc -print-file-name=libubsan.so; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

build_asan() {
  cmake -S "$ROOT" -B "$ASAN_BUILD" -DNATOMEDIA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >/dev/null && cmake --build "$ASAN_BUILD" -j"$JOBS"
}

run_unit() {
  echo "==== ASan/UBSan unit tests ($ASAN_BUILD)"
  if ctest --test-dir "$ASAN_BUILD" -R '^unit\.' --output-on-failure -j"$JOBS"; then
    note "PASS  ASan/UBSan unit tests"
  else
    note "FAIL  ASan/UBSan unit tests"; FAILED=1
  fi
}

run_integration() {
  echo "==== integration tests with the sanitized module inside httpd"
  local preload shim regex
  preload="$(asan_lib) $(ubsan_lib)"
  shim=$(mktemp -d /tmp/nm-asan-shim-XXXXXX)
  # httpd is not instrumented, so the sanitizer runtime has to come first in its processes: an
  # apache2 wrapper adds LD_PRELOAD for httpd alone (preloading every process of the run breaks
  # PostgreSQL's initdb). The harness runs harness.APACHE_BIN; a sitecustomize module points it
  # at the wrapper when the tests import harness. Leak checks are off: httpd frees its pools at
  # exit, not what it mallocs. A child's report goes to its stderr, the error log, where the
  # tests look for "AddressSanitizer" and "runtime error:" (proof_support.crash_lines).
  {
    echo '#!/bin/sh'
    echo "export LD_PRELOAD=\"$preload\""
    echo 'export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:verify_asan_link_order=0"'
    echo 'export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"'
    echo 'exec /usr/sbin/apache2 "$@"'
  } >"$shim/apache2"
  chmod 0755 "$shim" "$shim/apache2"
  {
    echo 'import importlib.abc, importlib.machinery, sys'
    echo 'class _Shim(importlib.abc.MetaPathFinder):'
    echo '    def find_spec(self, name, path, target=None):'
    echo '        if name != "harness":'
    echo '            return None'
    echo '        sys.meta_path.remove(self)'
    echo '        spec = importlib.machinery.PathFinder.find_spec(name, path)'
    echo '        real_exec = spec.loader.exec_module'
    echo '        def exec_module(module):'
    echo '            real_exec(module)'
    echo "            module.APACHE_BIN = \"$shim/apache2\""
    echo '        spec.loader.exec_module = exec_module'
    echo '        return spec'
    echo 'sys.meta_path.insert(0, _Shim())'
  } >"$shim/sitecustomize.py"
  regex=${INTEGRATION_TESTS:-'^integration\.'}
  if PYTHONPATH="$shim${PYTHONPATH:+:$PYTHONPATH}" \
     ctest --test-dir "$ASAN_BUILD" -R "$regex" --output-on-failure -j1; then
    note "PASS  integration tests, sanitized module (httpd with LD_PRELOAD=$preload)"
  else
    note "FAIL  integration tests, sanitized module"; FAILED=1
  fi
  rm -rf "$shim"
}

run_valgrind() {
  echo "==== valgrind on unit tests ($BUILD)"
  if ! command -v valgrind >/dev/null; then
    note "SKIP  valgrind (apt-get install valgrind)"; return
  fi
  cmake --build "$BUILD" -j"$JOBS" >/dev/null || { note "FAIL  valgrind: build failed"; FAILED=1; return; }
  local tests=${VALGRIND_TESTS:-"text_test template_engine_test request_parsing_test router_test xhtml_sanitizer_test feed_loader_test crypto_test sql_test mail_outbox_test i18n_test settings_test"}
  if [[ "$tests" == "all" ]]; then
    tests=$(cd "$BUILD/tests" && ls ./*_test | sed 's|^\./||')
  fi
  local t
  for t in $tests; do
    if [[ ! -x "$BUILD/tests/$t" ]]; then
      note "SKIP  valgrind $t (not built)"; continue
    fi
    # Exit 99 is valgrind's own (a memory error or a definite leak); any other failure is the
    # test's, e.g. a timing assertion that cannot hold at valgrind's 20-50x slowdown.
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
      "$BUILD/tests/$t" >"/tmp/valgrind-$t.log" 2>&1
    case $? in
      0) note "PASS  valgrind $t" ;;
      99) note "FAIL  valgrind $t: memory errors or leaks (log /tmp/valgrind-$t.log)"; FAILED=1 ;;
      *) if grep -q '^==[0-9]*== ' "/tmp/valgrind-$t.log"; then
           note "FAIL  valgrind $t (log /tmp/valgrind-$t.log)"; FAILED=1
         else
           note "PASS  valgrind $t: no valgrind error; a test assertion failed under valgrind ($(grep -m1 'Expression' "/tmp/valgrind-$t.log" | sed 's/^- //'))"
         fi ;;
    esac
  done
}

case "$WHAT" in
  unit) build_asan && run_unit ;;
  integration) build_asan && run_integration ;;
  valgrind) run_valgrind ;;
  all)
    if build_asan; then run_unit; run_integration; else note "FAIL  ASan build"; FAILED=1; fi
    run_valgrind ;;
  *) echo "usage: $0 [unit|integration|valgrind|all]" >&2; exit 2 ;;
esac

echo
echo "==================== sanitizers summary ===================="
printf '%s\n' "${SUMMARY[@]}"
exit $FAILED
