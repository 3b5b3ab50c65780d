#!/usr/bin/env bash
# Receipt reading runs Debian's Tesseract (with its English data); its tests and `make bench-receipts`
# render receipts in Debian's DejaVu, Liberation and FreeFont fonts. Installs what is missing. When
# it cannot be had (not root, no apt, no network), says that the reading tests will be skipped
# (tests/receipts/test_reading.py skips them) and succeeds: the rest of `make test` needs none of it.
set -uo pipefail

PACKAGES=(tesseract-ocr tesseract-ocr-eng fonts-dejavu-core fonts-liberation fonts-freefont-ttf)
FONTS=(/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf
  /usr/share/fonts/truetype/freefont/FreeSerif.ttf)

installed() {
  command -v tesseract >/dev/null || return 1
  for font in "${FONTS[@]}"; do [ -f "$font" ] || return 1; done
}
installed && exit 0

skipped() { echo "$1: the receipt reading tests will be skipped." >&2; exit 0; }

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  skipped "Tesseract or the receipt fonts are missing (as root: apt-get install ${PACKAGES[*]})"
fi
echo "Installing Debian's Tesseract and fonts for receipt reading..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Another apt run may hold the lock for a while; wait for it rather than fail.
if apt-get -o DPkg::Lock::Timeout=300 update -qq >"$log" 2>&1 \
  && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    "${PACKAGES[@]}" >>"$log" 2>&1 \
  && installed; then
  exit 0
fi
# apt's first error, else its first warning (a failed `update` only warns).
reason=$(grep -m1 '^E:' "$log" || grep -m1 '^W:' "$log")
skipped "Could not install Tesseract with apt-get${reason:+ ($reason)}"
