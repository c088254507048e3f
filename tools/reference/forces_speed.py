"""Reference side of bench/perf-forces.ts (npm run bench:perf-forces): the forces stage of
tools/reference/pipeline.py (CHGNet 0.3.0 on PyTorch, float32, through ASE's CHGNetCalculator,
one get_forces call per displaced supercell) timed on the displaced supercells softmode wrote.

  python forces_speed.py CASES.json OUT.json --threads N

CASES.json: [{"name", "supercells": [{"lattice": 3x3 rows (Å), "frac": [[...]], "numbers": [...]}]}].
OUT.json: {"meta", "cases": [{"name", "seconds", "forces": [n_supercells][n_atoms][3] eV/Å}]}.
Seconds are wall time of that loop (ASE Atoms built per supercell, as pipeline.py does), after
one warm-up call on the first case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    import chgnet
    from ase import Atoms
    from chgnet.model.dynamics import CHGNetCalculator
    from chgnet.model.model import CHGNet

    model = CHGNet.load(model_name="0.3.0", use_device="cpu", verbose=False)
    calc = CHGNetCalculator(model=model, use_device="cpu")
    cases = json.load(open(args.cases))

    def atoms_of(sc: dict) -> Atoms:
        return Atoms(numbers=sc["numbers"], cell=np.array(sc["lattice"]), scaled_positions=np.array(sc["frac"]), pbc=True)

    # warm-up: the first call pays PyTorch's lazy initialisation
    if cases and cases[0]["supercells"]:
        a = atoms_of(cases[0]["supercells"][0])
        a.calc = calc
        a.get_forces()

    out = []
    for c in cases:
        t0 = time.perf_counter()
        forces = []
        for sc in c["supercells"]:
            a = atoms_of(sc)
            a.calc = calc
            forces.append(np.array(a.get_forces(), dtype="double").tolist())
        out.append({"name": c["name"], "seconds": time.perf_counter() - t0, "forces": forces})
        print(f"{c['name']}: {len(forces)} supercells, {out[-1]['seconds']:.2f} s", file=sys.stderr)
    meta = {"chgnet": chgnet.__version__, "torch": torch.__version__, "threads": args.threads, "dtype": str(torch.get_default_dtype())}
    json.dump({"meta": meta, "cases": out}, open(args.out, "w"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
