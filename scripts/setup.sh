#!/usr/bin/env bash
# Sets up a fresh machine for the pipeline: a virtual environment in .venv with the exact pinned
# packages (requirements.lock) and this project, plus Debian's package lists so that the download
# stage can fetch the default suite's source packages. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DVC_NO_ANALYTICS=1

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "setup: Python 3.11 is required (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ ! -f .venv/.lock-installed ] || ! cmp -s requirements.lock .venv/.lock-installed; then
  .venv/bin/pip install --quiet -r requirements.lock
  cp requirements.lock .venv/.lock-installed
fi
.venv/bin/pip install --quiet --no-deps -e .

# The download stage uses `apt-get download`, which needs the package lists.
if command -v apt-get >/dev/null 2>&1 && ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
  else
    echo "setup: note: run 'sudo apt-get update' once so that 'imprepro download' can fetch packages" >&2
  fi
fi
echo "setup: ok (.venv ready; activate with '. .venv/bin/activate')"
