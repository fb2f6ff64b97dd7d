# The set-up every bench/ script shares, sourced first thing: `. "$(dirname "$0")/lib.sh"`.
# Sets `here` (bench/), exports NM_PREFIX (the script's first argument, else $NM_PREFIX, else
# build/stage) and NM_SOURCE_DIR for tests/integration/harness.py, and moves to
# tests/integration, where the script's Python (harness, proof_support) is run from.
here=$(cd "$(dirname "$0")" && pwd)
export NM_PREFIX="${1:-${NM_PREFIX:-$here/../build/stage}}"
export NM_SOURCE_DIR="$here/.."
cd "$here/../tests/integration"
