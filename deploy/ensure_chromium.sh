#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
# Installs it when it is missing; a no-op when it is there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Chromium is missing at $CHROMIUM: install Debian's package (apt-get install chromium)." >&2
  exit 1
fi
echo "Installing Debian's Chromium for the browser tests..."
# Another apt run may hold the lock for a while; wait for it rather than fail.
apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
  chromium fonts-dejavu-core >/dev/null
[ -x "$CHROMIUM" ]
