#!/bin/sh
# Runs every benchmark in bench/ against one install prefix and prints a table of the measured
# values (ratios are measured within each script's own run against Apache serving static files)
# with their goals (issue 8). Each script's full output goes to OUT_DIR (default a temp dir).
#   bench/run-all.sh [PREFIX]    (default build/stage: `ctest --test-dir build -R integration.install`
#                                 stages it)
# Takes about 9 minutes. Exit status: 0 when every goal is met, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export NM_PREFIX="${1:-${NM_PREFIX:-$here/../build/stage}}"
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/nm-bench-XXXXXX)}
mkdir -p "$OUT_DIR"
if [ ! -e "$NM_PREFIX/lib/apache2/modules/mod_natomedia.so" ]; then
  echo "no mod_natomedia.so under $NM_PREFIX: build and stage first" >&2
  exit 2
fi
scripts="news_vs_static home_vs_static preview_vs_static download_vs_static search_10k static_module_overhead wrong_code_post signin_rate mix_load"
scripts="$scripts feed_reload signin_throttled gated_static"
results="$OUT_DIR/results.txt"
: > "$results"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
     "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); load now: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $scripts; do
  echo "== $s" >&2
  # The previous script's logs (hundreds of MB after the mix) are written back now, and its
  # servers have exited, not during this script's measurements.
  sync
  sleep 5
  "$here/$s.sh" "$NM_PREFIX" > "$OUT_DIR/$s.txt" 2>&1
  rc=$?
  if grep -q '^RESULT|' "$OUT_DIR/$s.txt"; then
    grep '^RESULT|' "$OUT_DIR/$s.txt" >> "$results"
  else
    # The media_gateway scripts print "ratio X (goal >= G)".
    ratio=$(sed -n 's/^ratio *\([0-9.]*\) *(goal >= \([0-9.]*\)).*/\1 \2/p' "$OUT_DIR/$s.txt" | head -1)
    if [ -n "$ratio" ]; then
      set -- $ratio
      ok=$(awk -v v="$1" -v g="$2" 'BEGIN { print (v >= g) ? "pass" : "FAIL" }')
      echo "RESULT|$s ratio|$1|>=|$2||$ok" >> "$results"
    else
      echo "RESULT|$s|-|-|-||FAIL (exit $rc, see $OUT_DIR/$s.txt)" >> "$results"
    fi
  fi
done
echo
printf '%-60s %12s   %-10s %s\n' "measure" "value" "goal" "result"
awk -F'|' '{ printf "%-60s %12s   %-10s %s\n", $2, $3 ($6 != "" ? " " $6 : ""), $4 " " $5, $7 }' "$results"
echo
echo "outputs: $OUT_DIR"
! grep -q 'FAIL' "$results"
