#!/usr/bin/env python
"""Reference relaxation with ASE, for bench/relax-parity.ts.

Runs the same protocol as softmode's core/relax with ASE's own FIRE, FrechetCellFilter and
FixSymmetry (the PhononBench / Loew et al. driver: up to `maxRounds` rounds of a fresh
FixSymmetry + FrechetCellFilter + FIRE(`stepsPerRound`, fmax=`roundFmax`), abort when a
generalized force row exceeds `explodeForce`, accept iff a fresh filter's max force
<= `finalFmax`), or the fixed-cell MatterSim variant.

Models:
  chgnet-0.3.0   CHGNet on PyTorch (chgnet package, float32, CPU); also as chgnet-0.3.0-float32
  chgnet-0.3.0-float64  the same weights and forward in float64 (tools/export/chgnet_reference.py)
  lennard-jones  the softmode test pair potential, re-implemented here from its definition
  morse          (shifted-force, pair minimum = sum of radii; parameters come in the input)

Input JSON (written by the bench): {"model": ..., "pair": {...} | null, "protocol": {...},
"threads": int, "structures": [{"name", "lattice" (rows), "frac", "numbers"}]}.
Output JSON: {"results": [{name, verdict, reason, steps, perRound, energy, energyPerAtom,
maxForce, lattice, frac, seconds}], "total_seconds": ...}.

Usage: tools/.venv/bin/python tools/reference/relax_reference.py IN.json OUT.json
"""
import json
import sys
import time
import warnings

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.constraints import FixSymmetry
from ase.filters import FrechetCellFilter
from ase.neighborlist import neighbor_list
from ase.optimize import FIRE


class PairCalculator(Calculator):
    """Shifted-force Lennard-Jones / Morse with the softmode test-potential parameters."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, spec, **kw):
        super().__init__(**kw)
        self.kind = spec["kind"]
        self.eps = float(spec["epsilon"])
        self.radii = {int(z): float(r) for z, r in spec["radii"].items()}
        self.spec = spec

    def _coeff(self, zi, zj):
        r0 = self.radii[zi] + self.radii[zj]
        if self.kind == "lennard-jones":
            sigma = r0 / 2 ** (1 / 6)
            rc = self.spec["ljCutoffSigma"] * sigma
            return ("lj", sigma, r0, rc)
        alpha = self.spec["morseAlphaR0"] / r0
        rc = self.spec["morseCutoffR0"] * r0
        return ("morse", alpha, r0, rc)

    def _raw(self, c, r):
        kind, p, r0, _ = c
        if kind == "lj":
            s6 = (p / r) ** 6
            s12 = s6 * s6
            return 4 * self.eps * (s12 - s6), 4 * self.eps * (-12 * s12 + 6 * s6) / r
        e1 = np.exp(-p * (r - r0))
        return self.eps * (e1 * e1 - 2 * e1), 2 * self.eps * p * (e1 - e1 * e1)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        a = self.atoms
        z = a.get_atomic_numbers()
        species = sorted(set(int(x) for x in z))
        coeffs = {(p, q): self._coeff(p, q) for p in species for q in species}
        rcmax = max(c[3] for c in coeffs.values())
        i, j, d, D = neighbor_list("ijdD", a, rcmax)
        energy = 0.0
        forces = np.zeros((len(a), 3))
        virial = np.zeros((3, 3))
        for p in species:
            for q in species:
                c = coeffs[(p, q)]
                sel = (z[i] == p) & (z[j] == q) & (d < c[3])
                if not sel.any():
                    continue
                r = d[sel]
                phi, dphi = self._raw(c, r)
                phic, dphic = self._raw(c, c[3])
                phi = phi - phic - (r - c[3]) * dphic
                dphi = dphi - dphic
                energy += 0.5 * phi.sum()
                g = (dphi / r)[:, None] * D[sel]
                np.add.at(forces, i[sel], g)
                virial += 0.5 * np.einsum("k,ka,kb->ab", dphi / r, D[sel], D[sel])
        stress = virial / a.get_volume()
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["forces"] = forces
        self.results["stress"] = np.array(
            [stress[0, 0], stress[1, 1], stress[2, 2], stress[1, 2], stress[0, 2], stress[0, 1]]
        )


class Exploded(Exception):
    pass


def relax_one(atoms, calc, P):
    """One structure through the protocol; mirrors the Loew/PhononBench driver."""
    atoms = atoms.copy()
    per_round = []
    verdict, reason = None, None
    last_fmax = float("nan")
    converged_round = False

    def observe(target):
        f = target.get_forces()
        m = float(np.sqrt((f ** 2).sum(axis=1).max()))
        if not np.isfinite(m):
            raise Exploded("non_finite")
        if m > P["explodeForce"]:
            raise Exploded("explode_force")

    def stage():
        atoms.calc = calc
        if P["fixSymmetry"]:
            atoms.set_constraint(FixSymmetry(atoms, symprec=P["symprec"]))
        if P["relaxCell"]:
            return FrechetCellFilter(
                atoms,
                mask=P["cellMask"],
                exp_cell_factor=P["expCellFactor"],
                scalar_pressure=P["pressure"],
            )
        return atoms

    for _ in range(P["maxRounds"]):
        target = stage()
        opt = FIRE(target, logfile=None, **P["fire"])
        opt.insert_observer(observe, target=target)
        try:
            opt.run(fmax=P["roundFmax"], steps=P["stepsPerRound"])
        except Exploded as e:
            per_round.append(opt.nsteps)
            verdict, reason = "exploded", str(e)
            break
        except RuntimeError as e:  # FixSymmetry refuses a cell step > 0.25
            per_round.append(opt.nsteps)
            verdict, reason = "exploded", "cell_step_too_large" if "deformation gradient" in str(e) else str(e)
            break
        per_round.append(opt.nsteps)
        f = target.get_forces()
        last_fmax = float(np.sqrt((f ** 2).sum(axis=1).max()))
        if last_fmax < P["roundFmax"]:
            converged_round = True
            break
    if verdict is None:
        if P["finalFmax"] is not None:
            target = stage()
            f = target.get_forces()
            last_fmax = float(np.sqrt((f ** 2).sum(axis=1).max()))
            if last_fmax ** 2 > P["finalFmax"] ** 2:
                verdict, reason = "not_converged", "final_check"
            else:
                verdict = "converged"
        else:
            verdict = "converged" if converged_round else "not_converged"
            reason = None if converged_round else "max_rounds"
    energy = float(atoms.get_potential_energy())
    atoms.set_constraint()
    return {
        "verdict": verdict,
        "reason": reason,
        "steps": int(sum(per_round)),
        "perRound": per_round,
        "energy": energy,
        "energyPerAtom": energy / len(atoms),
        "maxForce": last_fmax,
        "lattice": atoms.cell.array.tolist(),
        "frac": atoms.get_scaled_positions(wrap=False).tolist(),
    }


class Chgnet64Calculator(Calculator):
    """CHGNet 0.3.0 on PyTorch in float64 (ChgnetReference), as an ASE calculator."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, threads, **kw):
        super().__init__(**kw)
        import os

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
        from chgnet_reference import ChgnetReference

        self.ref = ChgnetReference(threads=threads)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        from pymatgen.io.ase import AseAtomsAdaptor

        energy, forces, stress = self.ref.predict([AseAtomsAdaptor.get_structure(self.atoms)], "float64")[0]
        s = np.asarray(stress)
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": forces,
            # Voigt order xx yy zz yz xz xy, eV/Å³, ASE sign
            "stress": np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]),
        }


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as fh:
        job = json.load(fh)
    threads = int(job.get("threads", 1))
    model = job["model"]
    if model in ("lennard-jones", "morse"):
        calc = PairCalculator(job["pair"])
    elif model == "chgnet-0.3.0-float64":
        # the same CHGNet weights and forward, switched to float64 (tools/export/chgnet_reference.py,
        # the reference of the ML-potential parity): equal precision on both sides
        calc = Chgnet64Calculator(threads)
    elif model in ("chgnet-0.3.0", "chgnet-0.3.0-float32"):
        # the chgnet package exactly as users run it: float32 (its converter and composition
        # model fix the dtype)
        import torch

        torch.set_num_threads(threads)
        from chgnet.model.dynamics import CHGNetCalculator
        from chgnet.model.model import CHGNet

        calc = CHGNetCalculator(model=CHGNet.load(), use_device="cpu")
    else:
        raise SystemExit(f"unknown model {model}")
    P = job["protocol"]
    P["cellMask"] = None if P.get("cellMask") is None else [bool(x) for x in P["cellMask"]]
    fire = {k: P["fire"][k] for k in ("dt", "maxstep", "dtmax", "Nmin", "finc", "fdec", "astart", "fa", "a")}
    P["fire"] = fire
    results = []
    t_all = time.perf_counter()
    for s in job["structures"]:
        atoms = Atoms(numbers=s["numbers"], cell=s["lattice"], scaled_positions=s["frac"], pbc=True)
        if P.get("expCellFactor") is None:
            P["expCellFactor"] = None  # FrechetCellFilter default: number of atoms
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = relax_one(atoms, calc, P)
        r["seconds"] = time.perf_counter() - t0
        r["name"] = s["name"]
        results.append(r)
        print(f"{s['name']}: {r['verdict']} steps {r['steps']} E/atom {r['energyPerAtom']:.6f} {r['seconds']:.2f}s", file=sys.stderr)
    with open(dst, "w") as fh:
        json.dump({"results": results, "total_seconds": time.perf_counter() - t_all, "ase_version": __import__("ase").__version__}, fh)


if __name__ == "__main__":
    main()
