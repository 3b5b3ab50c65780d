#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
# Installs it when it is missing. When it cannot be had (not root, no apt, no network), says that the
# browser tests will be skipped (tests/web/test_browser.py skips them) and succeeds: the rest of
# `make test` needs no browser.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

skipped() { echo "$1: the browser tests will be skipped." >&2; exit 0; }

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  skipped "Chromium is missing at $CHROMIUM (as root: apt-get install chromium)"
fi
echo "Installing Debian's Chromium for the browser tests..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Another apt run may hold the lock for a while; wait for it rather than fail.
if apt-get -o DPkg::Lock::Timeout=300 update -qq >"$log" 2>&1 \
  && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >>"$log" 2>&1 \
  && [ -x "$CHROMIUM" ]; then
  exit 0
fi
# apt's first error, else its first warning (a failed `update` only warns).
reason=$(grep -m1 '^E:' "$log" || grep -m1 '^W:' "$log")
skipped "Could not install Chromium with apt-get${reason:+ ($reason)}"
