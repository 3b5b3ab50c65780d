#!/bin/sh
# LedgerX on several hosts of one machine (network namespaces): deploy/topology.sh up|down [NAME].
# As root. What it builds: deploy/topology.py and docs/operations.md, "Several hosts".
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
exec "$PYTHON" deploy/topology.py "$@"
