#!/usr/bin/env bash
# Make sure tools/.venv exists and can import what the reference scripts need, installing the
# pinned requirements with pip if not. Usage: tools/reference/ensure-venv.sh [phonondb|pipeline]
# Prints the python interpreter path on stdout (everything else goes to stderr).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(dirname "$here")"
venv="$tools/.venv"
what="${1:-phonondb}"
case "$what" in
  phonondb) req="$tools/requirements-reference.txt"; probe="import phonopy, seekpath, spglib, numpy" ;;
  pipeline) req="$tools/requirements.txt"; probe="import phonopy, seekpath, spglib, numpy, ase, torch, chgnet" ;;
  *) echo "usage: $0 [phonondb|pipeline]" >&2; exit 2 ;;
esac
py="$venv/bin/python"
if [ -x "$py" ] && "$py" -c "$probe" >/dev/null 2>&1; then
  echo "$py"
  exit 0
fi
if [ ! -x "$py" ]; then
  echo "creating $venv" >&2
  python3 -m venv "$venv" >&2
fi
echo "installing $req into $venv" >&2
"$py" -m pip install --quiet --upgrade pip >&2
"$py" -m pip install --quiet -r "$req" >&2
"$py" -c "$probe" >&2
echo "$py"
