#!/usr/bin/env bash
# SAML sign-on (apps/sso) checks the identity provider's signatures with Debian's xmlsec1, through
# pysaml2, in production and in its tests. Installs it when missing. When it cannot be had (not root,
# no apt, no network), says that the SAML tests will be skipped (tests/sso skips them) and succeeds.
set -uo pipefail

PACKAGES=(xmlsec1)
command -v xmlsec1 >/dev/null && exit 0

skipped() { echo "$1: the SAML sign-on tests will be skipped." >&2; exit 0; }

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  skipped "xmlsec1 is missing (as root: apt-get install ${PACKAGES[*]})"
fi
echo "Installing Debian's xmlsec1 for SAML sign-on..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Another apt run may hold the lock for a while; wait for it rather than fail.
if apt-get -o DPkg::Lock::Timeout=300 update -qq >"$log" 2>&1 \
  && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    "${PACKAGES[@]}" >>"$log" 2>&1 \
  && command -v xmlsec1 >/dev/null; then
  exit 0
fi
# apt's first error, else its first warning (a failed `update` only warns).
reason=$(grep -m1 '^E:' "$log" || grep -m1 '^W:' "$log")
skipped "Could not install xmlsec1 with apt-get${reason:+ ($reason)}"
