#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests use are reachable; start local ones that are
# installed but down; otherwise say how to start them.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "Starting the local PostgreSQL..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
    for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
  fi
fi
if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Starting the local Redis..."
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 50); do redis_up && break; sleep 0.2; done
  fi
fi

ok=1
pg_up || { ok=0; echo "PostgreSQL is not reachable at 127.0.0.1:5432 (trust auth, user postgres)."
  echo "  Install it (apt-get install postgresql) and start it:"
  echo "  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"; }
redis_up || { ok=0; echo "Redis is not reachable at 127.0.0.1:6379."
  echo "  Install it (apt-get install redis-server) and start it:"
  echo "  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"; }
[ "$ok" = 1 ] || exit 1
