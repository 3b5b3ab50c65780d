#!/usr/bin/env bash
# The pooler tests (tests/faults/test_pooler.py) run Debian's PgBouncer in front of the test database.
# Installs it when missing (Debian's own service, where it starts, listens on port 6432; the tests run
# theirs on free ports). When it cannot be had (not root, no
# apt, no network), says that those tests will be skipped and succeeds: the rest of `make test` needs
# none of it.
set -uo pipefail

command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] && exit 0

skipped() { echo "$1: the PgBouncer tests will be skipped." >&2; exit 0; }

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  skipped "PgBouncer is missing (as root: apt-get install pgbouncer)"
fi
echo "Installing Debian's PgBouncer for the pooler tests..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if apt-get -o DPkg::Lock::Timeout=300 update -qq >"$log" 2>&1 \
  && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends pgbouncer >>"$log" 2>&1 \
  && [ -x /usr/sbin/pgbouncer ]; then
  exit 0
fi
reason=$(grep -m1 '^E:' "$log" || grep -m1 '^W:' "$log")
skipped "Could not install PgBouncer with apt-get${reason:+ ($reason)}"
