#!/usr/bin/env bash
# Make sure tools/.venv-matgl (the matgl 2.0.4 reference: tools/requirements-matgl.txt) exists and
# imports; print its python on stdout (everything else goes to stderr).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(dirname "$here")"
venv="$tools/.venv-matgl"
py="$venv/bin/python"
probe="import os; os.environ['MATGL_BACKEND']='DGL'; os.environ['DGLBACKEND']='pytorch'; import torch, dgl, matgl, pymatgen, ase"
if [ -x "$py" ] && "$py" -c "$probe" >/dev/null 2>&1; then echo "$py"; exit 0; fi
if [ ! -x "$py" ]; then
  echo "creating $venv (Python 3.11)" >&2
  "${PYTHON311:-python3.11}" -m venv "$venv" >&2
fi
echo "installing $tools/requirements-matgl.txt into $venv (torch 2.2.1 from PyPI brings ~2.5 GB of CUDA libraries)" >&2
"$py" -m pip install --quiet --upgrade pip >&2
"$py" -m pip install --quiet -r "$tools/requirements-matgl.txt" >&2
"$py" -c "$probe" >&2
echo "$py"
