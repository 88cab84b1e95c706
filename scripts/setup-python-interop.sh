#!/usr/bin/env bash
# Installs the Python SSE client the interop suite drives (test/interop/requirements.txt)
# into .venv-interop/. Dev-only: nothing the product ships needs Python. Needs python3
# with its venv module (Debian: python3-venv). Idempotent: skips pip when the installed
# requirements match.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="$PWD/.venv-interop"
REQUIREMENTS="test/interop/requirements.txt"
STAMP="$VENV/requirements.txt"

command -v python3 >/dev/null 2>&1 || { echo "setup-python-interop: python3 not found (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || { echo "setup-python-interop: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; rm -rf "$VENV"; exit 1; }
fi
if [ -f "$STAMP" ] && cmp -s "$STAMP" "$REQUIREMENTS"; then
  echo "setup-python-interop: $(basename "$VENV") is up to date"
  exit 0
fi
# No retries: where a configured index cannot be reached, the next one answers at once.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --retries 0 -r "$REQUIREMENTS"
cp "$REQUIREMENTS" "$STAMP"
echo "setup-python-interop: installed $(tr '\n' ' ' < <(grep -v '^#' "$REQUIREMENTS"))into $(basename "$VENV")"
