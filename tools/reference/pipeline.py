"""Reference Python pipeline (issue 7): what a user's script does today.

ASE relaxation with the PhononBench / Loew protocol (physics.md section 7: up to 15 rounds
of fresh FixSymmetry(symprec 0.01) + FrechetCellFilter + FIRE, 500 steps, fmax 0.0025 eV/A;
abort when any |f| > 1e4 eV/A; success iff a fresh filter's max generalized force
< 0.005 eV/A), then phonopy finite displacements with CHGNet 0.3.0 forces (PyTorch), drift
removal, level-1 symmetrized force constants, and the q-points and stability rules shared
with the phonondb reference (phonon_post.py). Every stage is timed.

Usage:
  tools/.venv/bin/python tools/reference/pipeline.py CIF [CIF ...] --out-dir DIR
      [--supercell phononbench|min-length|"a b c"|"9 ints"] [--min-length 20 --max-atoms 500]
      [--displacement-mode diagonal|axis] [--amplitude 0.01] [--threads 2]
      [--phononbench-compat] [--device cpu]

One JSON per structure in DIR (<stem>.json) and DIR/summary.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import phonon_post  # noqa: E402

# PhononBench / Loew relaxation protocol (physics.md section 7).
PROTOCOL = {
    "name": "phononbench",
    "max_rounds": 15,
    "steps_per_round": 500,
    "round_fmax": 0.0025,
    "final_fmax": 0.005,
    "explode_force": 1e4,
    "fix_symmetry_symprec": 0.01,
    "optimizer": "ase.optimize.FIRE (defaults)",
    "cell_filter": "ase.filters.FrechetCellFilter",
}


class RelaxationExploded(RuntimeError):
    pass


def choose_supercell(atoms, rule: str, min_length: float, max_atoms: int) -> tuple[np.ndarray, str | None]:
    """Same rules as softmode's chooseSupercell (core/structure/supercell.ts):
    'phononbench' = 2x2x2 of the input cell; 'min-length' = smallest diagonal multiples with
    every vector >= min_length, reduced (longest supercell vector first) while the atom count
    exceeds max_atoms; or an explicit matrix ("a b c" or 9 integers, phonopy's DIM)."""
    n = len(atoms)
    if rule == "phononbench":
        return np.diag([2, 2, 2]), None
    if rule == "min-length":
        lengths = np.linalg.norm(np.array(atoms.cell), axis=1)
        mult = [max(1, math.ceil(min_length / l - 1e-9)) for l in lengths]
        note = None
        while n * mult[0] * mult[1] * mult[2] > max_atoms:
            k, best = -1, -1.0
            for i in range(3):
                if mult[i] > 1 and mult[i] * lengths[i] > best:
                    best, k = mult[i] * lengths[i], i
            if k < 0:
                break
            mult[k] -= 1
            note = f"capped at {max_atoms} atoms: some vectors shorter than {min_length} A"
        return np.diag(mult), note
    ints = [int(x) for x in rule.split()]
    if len(ints) == 3:
        return np.diag(ints), None
    if len(ints) == 9:
        return np.array(ints).reshape(3, 3), None
    raise ValueError(f"--supercell must be phononbench, min-length, 3 or 9 integers: {rule!r}")


def max_row_norm(forces: np.ndarray) -> float:
    return float(np.sqrt((np.asarray(forces) ** 2).sum(axis=1).max()))


def relax(atoms, calc) -> dict[str, Any]:
    """PhononBench protocol. Returns the relaxed atoms (constraint removed) and a record."""
    from ase.constraints import FixSymmetry
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE

    atoms = atoms.copy()
    atoms.calc = calc
    steps_total = 0
    rounds = 0
    record: dict[str, Any] = {"converged": False}

    def explode_guard(filtered):
        if max_row_norm(filtered.get_forces()) > PROTOCOL["explode_force"]:
            raise RelaxationExploded("forces above 1e4 eV/A")

    try:
        for _ in range(PROTOCOL["max_rounds"]):
            rounds += 1
            atoms.set_constraint(FixSymmetry(atoms, symprec=PROTOCOL["fix_symmetry_symprec"]))
            filtered = FrechetCellFilter(atoms)
            opt = FIRE(filtered, logfile=None)
            opt.insert_observer(explode_guard, filtered=filtered)
            opt.run(fmax=PROTOCOL["round_fmax"], steps=PROTOCOL["steps_per_round"])
            steps_total += opt.nsteps
            fmax_round = max_row_norm(filtered.get_forces())
            print(f"  relax round {rounds}: {opt.nsteps} FIRE steps ({steps_total} in all), generalized fmax {fmax_round:.3g} eV/A", file=sys.stderr, flush=True)
            if fmax_round > PROTOCOL["explode_force"]:
                raise RelaxationExploded("forces above 1e4 eV/A")
            if fmax_round < PROTOCOL["round_fmax"]:
                break
        # Final acceptance on a fresh constraint + filter.
        atoms.set_constraint(FixSymmetry(atoms, symprec=PROTOCOL["fix_symmetry_symprec"]))
        final_fmax = max_row_norm(FrechetCellFilter(atoms).get_forces())
        record.update(
            converged=bool(final_fmax < PROTOCOL["final_fmax"]),
            final_generalized_fmax_eV_A=final_fmax,
        )
        if not record["converged"]:
            record["reason"] = f"final generalized force {final_fmax:.4g} >= {PROTOCOL['final_fmax']} eV/A"
    except RelaxationExploded as exc:
        record.update(converged=False, reason=str(exc))
    atoms.set_constraint()
    record.update(rounds=rounds, steps=steps_total)
    if record["converged"]:
        record["energy_eV"] = float(atoms.get_potential_energy())
        record["energy_per_atom_eV"] = record["energy_eV"] / len(atoms)
        record["stress_eV_A3"] = [float(x) for x in atoms.get_stress(voigt=True)]
    return {"atoms": atoms, "record": record}


def spacegroup(atoms, symprec: float) -> dict[str, Any]:
    import spglib

    ds = spglib.get_symmetry_dataset(
        (np.array(atoms.cell), atoms.get_scaled_positions(), atoms.numbers), symprec=symprec
    )
    if ds is None:
        return {"number": None, "symbol": None}
    return {"number": int(ds.number), "symbol": str(ds.international)}


def phonons(atoms, calc, args, timings: dict[str, float]) -> dict[str, Any]:
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    t0 = time.perf_counter()
    unit = PhonopyAtoms(
        symbols=atoms.get_chemical_symbols(),
        cell=np.array(atoms.cell),
        scaled_positions=atoms.get_scaled_positions(),
    )
    smat, note = choose_supercell(atoms, args.supercell, args.min_length, args.max_atoms)
    phonon = Phonopy(
        unit,
        supercell_matrix=smat,
        primitive_matrix=args.primitive,
        symprec=phonon_post.SYMPREC,
        log_level=0,
    )
    phonon.generate_displacements(
        distance=args.amplitude,
        is_plusminus="auto",
        is_diagonal=args.displacement_mode == "diagonal",
    )
    supercells = phonon.supercells_with_displacements
    timings["displacements"] = time.perf_counter() - t0

    from ase import Atoms

    t0 = time.perf_counter()
    forces = []
    for sc in supercells:
        a = Atoms(symbols=sc.symbols, cell=sc.cell, scaled_positions=sc.scaled_positions, pbc=True)
        a.calc = calc
        forces.append(np.array(a.get_forces(), dtype="double"))
    timings["forces"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    dataset = phonon.dataset
    for entry, f in zip(dataset["first_atoms"], forces):
        entry["forces"] = f
    max_drift = phonon_post.drift_remove(dataset)
    phonon.dataset = dataset
    phonon_post.produce_level1_fc(phonon)
    timings["force_constants"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    post = phonon_post.post_process(phonon, keep_commensurate=False, phononbench_compat=args.phononbench_compat)
    timings["qpoints"] = time.perf_counter() - t0
    return {
        "supercell_matrix": smat.tolist(),
        "supercell_note": note,
        "n_atoms_supercell": len(phonon.supercell),
        "n_atoms_primitive": len(phonon.primitive),
        "n_displacements": len(supercells),
        "max_force_drift_removed_eV_A": max_drift,
        **post,
    }


def checkpoint_sha256() -> dict[str, Any]:
    import chgnet

    root = Path(chgnet.__file__).parent / "pretrained" / "0.3.0"
    files = sorted(root.glob("*.pth.tar"))
    if not files:
        return {"file": None, "sha256": None}
    return {"file": files[0].name, "sha256": hashlib.sha256(files[0].read_bytes()).hexdigest()}


class StageTimings(dict):
    """Stage wall times (s); each is printed to stderr when it is set, so a long run that is
    stopped early still shows which stages finished and how long they took."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def __setitem__(self, key: str, value: float) -> None:
        super().__setitem__(key, value)
        print(f"[{self.name}] {key} done in {value:.1f} s", file=sys.stderr, flush=True)


def run_one(path: Path, calc, args) -> dict[str, Any]:
    from ase.io import read

    timings: dict[str, float] = StageTimings(path.stem)
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    atoms = read(str(path))
    timings["read"] = time.perf_counter() - t0
    out: dict[str, Any] = {
        "name": path.stem,
        "source": str(path),
        "formula": atoms.get_chemical_formula(),
        "n_atoms": len(atoms),
        "input_spacegroup": spacegroup(atoms, 0.01),
    }
    t0 = time.perf_counter()
    relaxed = relax(atoms, calc)
    timings["relax"] = time.perf_counter() - t0
    rec = relaxed["record"]
    out["relax"] = rec
    ratoms = relaxed["atoms"]
    out["relaxed"] = {
        "lattice": np.array(ratoms.cell).tolist(),
        "frac": ratoms.get_scaled_positions().tolist(),
        "numbers": ratoms.numbers.tolist(),
        "volume_A3": float(ratoms.get_volume()),
        "spacegroup_1e-5": spacegroup(ratoms, 1e-5),
        "spacegroup_0.01": spacegroup(ratoms, 0.01),
    }
    if not rec["converged"]:
        # PhononBench counts this as unstable; the reason stays separate (physics.md section 5).
        out["verdict"] = "relaxation failed"
        out["labels"] = {p: "unstable (relaxation failed)" for p in phonon_post.RULES}
    else:
        out["phonon"] = phonons(ratoms, calc, args, timings)
        out["labels"] = out["phonon"].pop("labels")
        out["verdict"] = out["labels"]["full-bz"]
        out["min_freq_THz"] = {
            "band_path": out["phonon"]["band_path"]["min_THz"],
            "commensurate": out["phonon"]["commensurate"]["min_THz"],
            "mesh": out["phonon"]["mesh"]["min_THz"],
            "full_bz_excluding_gamma_acoustic": (out["phonon"]["full_bz_min"] or {}).get("min_THz"),
        }
    timings["total"] = time.perf_counter() - t_start
    out["timing_s"] = timings
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cifs", nargs="+", type=Path)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--supercell", default="phononbench")
    ap.add_argument("--min-length", type=float, default=20.0)
    ap.add_argument("--max-atoms", type=int, default=500)
    ap.add_argument("--displacement-mode", choices=["diagonal", "axis"], default="diagonal")
    ap.add_argument("--amplitude", type=float, default=0.01)
    ap.add_argument("--primitive", default=None, help="phonopy primitive_matrix: omit (input cell) or 'auto'")
    ap.add_argument("--phononbench-compat", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import ase
    import chgnet
    import phonopy
    import seekpath
    import spglib
    from chgnet.model.dynamics import CHGNetCalculator
    from chgnet.model.model import CHGNet

    args.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = CHGNet.load(model_name="0.3.0", use_device=args.device, verbose=False)
    calc = CHGNetCalculator(model=model, use_device=args.device)
    t_model = time.perf_counter() - t0

    settings = {
        "protocol": PROTOCOL,
        "supercell": args.supercell,
        "min_length": args.min_length,
        "max_atoms": args.max_atoms,
        "displacement_mode": args.displacement_mode,
        "amplitude_A": args.amplitude,
        "plus_minus": "auto",
        "primitive_matrix": args.primitive,
        "phononbench_compat": args.phononbench_compat,
        "symprec": phonon_post.SYMPREC,
        "band_points_longest_segment": phonon_post.BAND_POINTS_LONGEST_SEGMENT,
        "mesh_density": phonon_post.MESH_DENSITY,
        "threads": args.threads,
        "device": args.device,
    }
    meta = {
        "model": {"name": "CHGNet", "version": "0.3.0", "package": chgnet.__version__, **checkpoint_sha256()},
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "ase": ase.__version__,
            "phonopy": phonopy.__version__,
            "seekpath": seekpath.__version__,
            "spglib": spglib.__version__,
            "numpy": np.__version__,
        },
        "settings": settings,
        "rules": phonon_post.RULES,
        "model_load_s": t_model,
    }
    summary = []
    for path in args.cifs:
        try:
            res = run_one(path, calc, args)
        except Exception as exc:  # record and continue with the next structure
            res = {"name": path.stem, "source": str(path), "error": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc()}
        res["meta"] = meta
        (args.out_dir / f"{path.stem}.json").write_text(json.dumps(res, indent=1))
        line = {k: res.get(k) for k in ("name", "verdict", "labels", "min_freq_THz", "timing_s", "error")}
        line["energy_per_atom_eV"] = res.get("relax", {}).get("energy_per_atom_eV")
        summary.append(line)
        print(json.dumps({k: line[k] for k in ("name", "verdict", "labels")}), flush=True)
        print("   timing_s " + json.dumps({k: round(v, 2) for k, v in (res.get("timing_s") or {}).items()}), flush=True)
    (args.out_dir / "summary.json").write_text(json.dumps({"meta": meta, "structures": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
