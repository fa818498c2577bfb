#!/usr/bin/env bash
# Create benchmarks/.venv-specstar (if missing) with specstar==0.12.3 installed.
# Idempotent; only talks to PyPI.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$HERE/.venv-specstar"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
if ! "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("specstar") != "0.12.3")' 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "specstar==0.12.3"
fi
echo "$VENV/bin/python"
