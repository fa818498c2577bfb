#!/usr/bin/env bash
# Create benchmarks/.venv-specstar (if missing) with specstar==0.12.3 installed, plus what
# W2 needs to serve it over HTTP: specstar's GraphQL extra (strawberry-graphql) and uvicorn,
# and its postgresql extra's driver (psycopg2-binary) for the PostgreSQL profiles.
# Idempotent; only talks to PyPI.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$HERE/.venv-specstar"
PY="${PYTHON:-python3}"
# name==version, one per word; checked against the installed versions below.
PINS="specstar==0.12.3 strawberry-graphql==0.341.2 uvicorn==0.54.0 psycopg2-binary==2.9.13"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
if ! "$VENV/bin/python" - $PINS <<'PYEOF' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
PYEOF
then
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PINS
fi
echo "$VENV/bin/python"
