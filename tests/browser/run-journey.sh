#!/bin/sh
# CTest's entry to the browser tests (browser.journey, browser.home, browser.self_service): runs
# journey.test.mjs (or the file named by $1) with node's test runner. Skipped (exit 77, CTest's
# SKIP_RETURN_CODE) only when the npm packages are not installed: scripts/install-deps.sh runs
# `npm ci` here. A missing node or chromium is a failure.
set -eu
cd "$(dirname "$0")"
if [ ! -f node_modules/playwright-core/package.json ] ||
   [ ! -f node_modules/@axe-core/playwright/package.json ]; then
  echo "browser.journey SKIPPED: tests/browser/node_modules is missing;" \
       "run scripts/install-deps.sh (it runs npm ci in tests/browser)"
  exit 77
fi
if ! command -v node >/dev/null 2>&1; then
  echo "browser.journey: node is not installed (scripts/install-deps.sh installs nodejs)" >&2
  exit 1
fi
exec node --test --test-concurrency=1 "${1:-journey.test.mjs}"
