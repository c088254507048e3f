#!/usr/bin/env python
"""Fixture for test/relax-symmetry.test.ts: ASE's refine_symmetry (spglib) on perturbed centred
structures (C, A, I, F, R lattices) taken from the shared MatterGen set.

Each case: the perturbed input (lattice rows, frac, numbers) and ASE's refined lattice and
fractional positions (unwrapped) at symprec 0.01.

Usage: tools/.venv/bin/python tools/reference/refine_symmetry_fixture.py > test/fixtures/refine-symmetry-ase.json
"""
import glob
import json
import warnings

import numpy as np
import spglib
from ase import Atoms
from ase.io import read
from ase.spacegroup.symmetrize import refine_symmetry

warnings.simplefilter("ignore")
PER_CENTRING = 2
rng = np.random.default_rng(1)
seen = {}
cases = []
for f in sorted(glob.glob("../shared/data/structures/mattergen/*/*_symmetrized.cif")):
    try:
        a = read(f)
    except Exception:
        continue
    if len(a) > 12:
        continue
    ds = spglib.get_symmetry_dataset((a.cell[:], a.get_scaled_positions(), a.numbers), symprec=0.01)
    c = ds.international[0]
    if c == "P" or seen.get(c, 0) >= PER_CENTRING:
        continue
    # the conventional cell as stored, and a primitive cell of it (the centring then lives only
    # in the operations, as in relaxations of primitive MatterGen cells)
    lat, pos, nums = spglib.find_primitive((a.cell[:], a.get_scaled_positions(), a.numbers), symprec=1e-5)
    prim = Atoms(numbers=nums, cell=lat, scaled_positions=pos, pbc=True)
    added = []
    for kind, base in (("conventional", a), ("primitive", prim)):
        b = base.copy()
        b.rattle(1e-3, seed=3)
        b.set_cell(b.cell[:] @ (np.eye(3) + rng.normal(0, 5e-4, (3, 3))), scale_atoms=True)
        ref = b.copy()
        refine_symmetry(ref, 0.01)
        check = spglib.get_symmetry_dataset((ref.cell[:], ref.get_scaled_positions(), ref.numbers), symprec=1e-8)
        if check is None or check.number != ds.number:
            continue
        added.append({
            "name": f"{f.split('/')[-1]} ({kind})",
            "spaceGroup": int(ds.number),
            "lattice": b.cell[:].tolist(),
            "frac": b.get_scaled_positions(wrap=False).tolist(),
            "numbers": [int(z) for z in b.numbers],
            "aseLattice": ref.cell[:].tolist(),
            "aseFrac": ref.get_scaled_positions(wrap=False).tolist(),
        })
    if len(added) < 2:
        continue
    seen[c] = seen.get(c, 0) + 1
    cases.extend(added)
print(json.dumps({"generator": "tools/reference/refine_symmetry_fixture.py", "symprec": 0.01,
                  "ase": __import__("ase").__version__, "spglib": spglib.__version__, "cases": cases}, indent=1))
