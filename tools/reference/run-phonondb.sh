#!/usr/bin/env bash
# npm run reference:phonondb [-- extra args]: DFT-PBEsol reference labels of the phonondb
# archives with phonopy (bench/results/phonondb-reference.json), 2 worker processes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="$("$here/ensure-venv.sh" phonondb)"
exec "$py" "$here/phonondb_reference.py" "$@"
