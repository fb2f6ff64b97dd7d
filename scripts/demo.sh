#!/usr/bin/env bash
# Builds, installs into build/demo-prefix and runs the portal on http://127.0.0.1:8080 with
# SQLite and mail kept under ./demo/ (mail is written to demo/mail/new; each message's recipient,
# subject and verification code are printed here). Ctrl-C stops it; safe to run again (a demo
# still running from an earlier call is stopped first, by its PID files in demo/run/).
# Usage: scripts/demo.sh [--port N]   (as root on Debian 12; env PORT, BUILD_DIR, DEMO_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${PORT:-8080}
if [[ "${1:-}" == "--port" && -n "${2:-}" ]]; then PORT=$2; fi
absolute() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
BUILD=$(absolute "${BUILD_DIR:-build}")
DEMO=$(absolute "${DEMO_DIR:-demo}")
PREFIX=$BUILD/demo-prefix

scripts/install-deps.sh
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD" -j2
rm -rf "$PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX"
chmod -R a+rX "$PREFIX"   # httpd's children (www-data) read templates and strings

mkdir -p "$DEMO"
chmod 0755 "$DEMO"
FEED_ARGS=()
if [[ -f scripts/make-sample-media.sh ]]; then
  if [[ ! -f "$DEMO/media/sample-feed.xml" ]]; then
    echo "demo: generating sample media in $DEMO/media"
    bash scripts/make-sample-media.sh "$DEMO/media"
  fi
  chmod -R a+rX "$DEMO/media"
  FEED_ARGS=(--feed "$DEMO/media/sample-feed.xml" --media-root "$DEMO/media")
else
  echo "demo: scripts/make-sample-media.sh is missing; running without a feed" >&2
fi

exec /usr/bin/python3 tests/integration/demo.py --prefix "$PREFIX" --dir "$DEMO" \
  --port "$PORT" --memcached-port 11311 "${FEED_ARGS[@]}"
