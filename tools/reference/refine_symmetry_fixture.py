#!/usr/bin/env python
"""Fixture for test/relax-symmetry.test.ts: ASE's refine_symmetry (spglib) on perturbed centred
structures (C, A, I, F, R lattices) taken from the shared MatterGen set, then on perturbed
triclinic and monoclinic structures with their origin moved at random (spglib fixes the origin
from the translations of one or two generators, so noisy inputs probe exactly that), and on the
near-C2/m geometry CsTe2Pd relaxes to (the CIF symmetrized at symprec 0.05, then perturbed).

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


def small_symmetrized(max_atoms):
    """(path, atoms, spglib dataset at symprec 0.01) of the readable symmetrized MatterGen CIFs
    with at most max_atoms atoms, in path order."""
    for f in sorted(glob.glob("../shared/data/structures/mattergen/*/*_symmetrized.cif")):
        try:
            a = read(f)
        except Exception:
            continue
        if len(a) > max_atoms:
            continue
        yield f, a, spglib.get_symmetry_dataset((a.cell[:], a.get_scaled_positions(), a.numbers), symprec=0.01)


rng = np.random.default_rng(1)
seen = {}
cases = []
for f, a, ds in small_symmetrized(12):
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


def perturbed_case(name, base, number, rng, seed, shift=True):
    b = base.copy()
    b.rattle(1e-3, seed=seed)
    b.set_cell(b.cell[:] @ (np.eye(3) + rng.normal(0, 5e-4, (3, 3))), scale_atoms=True)
    if shift:
        b.set_scaled_positions(b.get_scaled_positions(wrap=False) + rng.random(3))
    ref = b.copy()
    refine_symmetry(ref, 0.01)
    check = spglib.get_symmetry_dataset((ref.cell[:], ref.get_scaled_positions(), ref.numbers), symprec=1e-8)
    if check is None or check.number != number:
        return None
    return {
        "name": name,
        "spaceGroup": int(number),
        "lattice": b.cell[:].tolist(),
        "frac": b.get_scaled_positions(wrap=False).tolist(),
        "numbers": [int(z) for z in b.numbers],
        "aseLattice": ref.cell[:].tolist(),
        "aseFrac": ref.get_scaled_positions(wrap=False).tolist(),
    }


# triclinic and monoclinic groups, each group once, as stored and (centred ones) as primitive cell
rng = np.random.default_rng(2)
seen_groups = set()
for f in sorted(glob.glob("../shared/data/structures/mattergen/*/*_symmetrized.cif")):
    try:
        a = read(f)
    except Exception:
        continue
    if len(a) > 12:
        continue
    ds = spglib.get_symmetry_dataset((a.cell[:], a.get_scaled_positions(), a.numbers), symprec=0.01)
    if ds is None or ds.number > 15 or ds.number in seen_groups:
        continue
    seen_groups.add(ds.number)
    bases = [("conventional", a)]
    if ds.international[0] != "P":
        lat, pos, nums = spglib.find_primitive((a.cell[:], a.get_scaled_positions(), a.numbers), symprec=1e-5)
        bases.append(("primitive", Atoms(numbers=nums, cell=lat, scaled_positions=pos, pbc=True)))
    for kind, base in bases:
        for k in range(2):
            c = perturbed_case(f"{f.split('/')[-1]} ({kind}, shifted {k})", base, ds.number, rng, seed=10 + k)
            if c is not None:
                cases.append(c)

# CsTe2Pd (P1 as generated) relaxes to within ~1e-3 A of C2/m; its symmetrized geometry, perturbed
cif = "../shared/data/structures/mattergen/mattergen_base/CsTe2Pd.cif"
a = read(cif)
refine_symmetry(a, 0.05)
for k in range(4):
    c = perturbed_case(f"CsTe2Pd.cif near C2/m (P1 cell, perturbed {k})", a, 12, rng, seed=20 + k, shift=k > 0)
    if c is not None:
        cases.append(c)

# P-1 by hand: inversion centre within symprec of the input origin (spglib keeps that origin) and
# far from it (the origin then comes from the inversion's translation)
cell = [[5.1, 0.2, 0.1], [0.3, 5.6, -0.2], [0.1, 0.4, 6.2]]
for name, centre in (("P-1 by hand, centre near (1/2,1/2,1/2)", [0.5002, 0.4999, 0.5003]),
                     ("P-1 by hand, centre at a general point", [0.3102, 0.6399, 0.4503])):
    ctr = np.array(centre)
    x0 = np.array([0.1, 0.2, 0.3])
    frac = [x0, 2 * ctr - x0 + np.array([-0.0004, 0.0003, 0.0002]), ctr + np.array([0.0002, -0.0001, 0.0003])]
    b = Atoms(numbers=[8, 8, 12], cell=cell, scaled_positions=frac, pbc=True)
    ref = b.copy()
    refine_symmetry(ref, 0.01)
    cases.append({
        "name": name, "spaceGroup": 2, "lattice": cell, "frac": b.get_scaled_positions(wrap=False).tolist(),
        "numbers": [8, 8, 12], "aseLattice": ref.cell[:].tolist(), "aseFrac": ref.get_scaled_positions(wrap=False).tolist(),
    })

# more monoclinic structures given as primitive cells (as MatterGen relaxations are), and more
# perturbations of CsTe2Pd: these exercise the choice of spglib's conventional basis
rng = np.random.default_rng(7)
added = 0
for f, a, ds in small_symmetrized(10):
    if ds is None or not (3 <= ds.number <= 15):
        continue
    lat, pos, nums = spglib.find_primitive((a.cell[:], a.get_scaled_positions(), a.numbers), symprec=1e-5)
    prim = Atoms(numbers=nums, cell=lat, scaled_positions=pos, pbc=True)
    c = perturbed_case(f"{f.split('/')[-1]} (primitive, perturbed)", prim, ds.number, rng, seed=30)
    if c is not None and c["name"] not in {x["name"] for x in cases}:
        cases.append(c)
        added += 1
    if added >= 12:
        break
a = read(cif)
refine_symmetry(a, 0.05)
for k in range(6):
    c = perturbed_case(f"CsTe2Pd.cif near C2/m (P1 cell, more {k})", a, 12, rng, seed=40 + k)
    if c is not None:
        cases.append(c)

print(json.dumps({"generator": "tools/reference/refine_symmetry_fixture.py", "symprec": 0.01,
                  "ase": __import__("ase").__version__, "spglib": spglib.__version__, "cases": cases}, indent=1))
