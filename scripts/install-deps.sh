#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the demo need; safe to repeat.
# apt is skipped entirely when everything is installed already (checked with dpkg-query);
# `apt-get update` runs only when the package lists are missing or an install fails without it.
# Then installs tests/browser's npm packages when tests/browser/package.json exists.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config debhelper lintian
  apache2 apache2-dev apache2-utils libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql
  libmemcached-dev libmemcached-tools memcached
  libargon2-dev libcurl4-openssl-dev libcppunit-dev libxml2-dev libxml2-utils libssl-dev
  python3-aiosmtpd postgresql ffmpeg chromium clang-14 libclang-rt-14-dev wrk sqlite3 curl
  nodejs npm
)

installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  # NodeSource's nodejs ships npm itself and conflicts with Debian's npm package.
  if [[ "$pkg" == npm ]] && command -v npm >/dev/null 2>&1; then
    continue
  fi
  installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} Debian packages are installed"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=()
  if ((EUID != 0)); then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install-deps: run as root (or install sudo)" >&2
      exit 1
    fi
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { "${SUDO[@]}" apt-get install -y "${missing[@]}"; }
  if ! compgen -G "/var/lib/apt/lists/*_Packages" >/dev/null; then
    "${SUDO[@]}" apt-get update
  fi
  if ! apt_install; then
    echo "install-deps: install failed; refreshing the package lists and retrying"
    "${SUDO[@]}" apt-get update
    apt_install
  fi
fi

# Browser tests (Playwright driving Debian's chromium; never `npx playwright install`).
if [[ -f tests/browser/package.json ]]; then
  (
    cd tests/browser
    stamp=node_modules/.install-stamp
    if [[ -f "$stamp" && "$stamp" -nt package.json &&
          ( ! -f package-lock.json || "$stamp" -nt package-lock.json ) ]]; then
      echo "install-deps: tests/browser/node_modules is up to date"
    else
      if [[ -f package-lock.json ]]; then
        npm ci --no-audit --no-fund
      else
        npm install --no-audit --no-fund
      fi
      touch "$stamp"
    fi
  )
fi
