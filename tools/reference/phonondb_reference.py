"""DFT-PBEsol labels of the phonondb archives with phonopy (the parity reference).

For every archive in ../shared/data/dft-phonondb/*.tar.lzma: read POSCAR-unitcell,
phonopy.conf (DIM, PRIMITIVE_AXIS) and FORCE_SETS; remove force drift; phonopy's
traditional force constants with level-1 symmetrization; frequencies at the
commensurate q of the supercell, along the seekpath/HPKOT band path and on the
Gamma-centred mesh; labels under every preset (physics.md sections 2, 4, 5).
No non-analytical correction (BORN is ignored): softmode and the ML pipelines
do not apply one, and the label must be comparable with theirs.

Usage:
  tools/.venv/bin/python tools/reference/phonondb_reference.py \
      [--data ../shared/data/dft-phonondb] [--out bench/results/phonondb-reference.json] \
      [--jobs 2] [--only mp-149,mp-1000]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import os
import platform
import sys
import tarfile
import time
from fractions import Fraction
from multiprocessing import Pool
from pathlib import Path

# One BLAS/OpenMP thread per worker process: the machine has 2 cores and we run 2 workers.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import phonon_post  # noqa: E402

REPO = HERE.parent.parent
DEFAULT_DATA = (REPO / ".." / "shared" / "data" / "dft-phonondb").resolve()
DEFAULT_OUT = REPO / "bench" / "results" / "phonondb-reference.json"


def archive_id(path: Path) -> str:
    """materials-id-10492-rb2sif6-fm-3m-225.tar.lzma -> mp-10492."""
    stem = path.name
    parts = stem.split("-")
    if len(parts) < 3 or parts[0] != "materials" or parts[1] != "id":
        raise ValueError(f"unexpected archive name {stem}")
    return f"mp-{parts[2]}"


def read_archive(path: Path) -> dict[str, str]:
    """Text members of the compressed tar, keyed by base name."""
    # FORMAT_AUTO: the files are xz despite the .lzma name.
    with lzma.open(path) as fh:
        data = fh.read()
    files: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name.rsplit("/", 1)[-1]
            extracted = tar.extractfile(member)
            if extracted is not None:
                files[name] = extracted.read().decode()
    return files


def parse_conf(text: str) -> dict[str, np.ndarray]:
    """DIM (3 or 9 integers) and PRIMITIVE_AXIS (9 fractions, default identity)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key.strip().upper()] = value.strip()
    dim = [int(x) for x in values["DIM"].split()]
    if len(dim) == 3:
        smat = np.diag(dim)
    elif len(dim) == 9:
        smat = np.array(dim).reshape(3, 3)
    else:
        raise ValueError(f"DIM must have 3 or 9 integers: {values['DIM']}")
    if "PRIMITIVE_AXIS" in values:
        pa = [float(Fraction(x)) for x in values["PRIMITIVE_AXIS"].split()]
        if len(pa) != 9:
            raise ValueError(f"PRIMITIVE_AXIS must have 9 numbers: {values['PRIMITIVE_AXIS']}")
        pmat = np.array(pa).reshape(3, 3)
    else:
        pmat = np.eye(3)
    return {"supercell_matrix": smat, "primitive_matrix": pmat}


def process(path_str: str) -> dict:
    from phonopy import Phonopy
    from phonopy.file_IO import parse_FORCE_SETS_from_strings
    from phonopy.interface.vasp import read_vasp_from_strings

    path = Path(path_str)
    t0 = time.perf_counter()
    files = read_archive(path)
    conf = parse_conf(files["phonopy.conf"])
    unitcell = read_vasp_from_strings(files["POSCAR-unitcell"])
    phonon = Phonopy(
        unitcell,
        supercell_matrix=conf["supercell_matrix"],
        primitive_matrix=conf["primitive_matrix"],
        symprec=phonon_post.SYMPREC,
        log_level=0,
    )
    dataset = parse_FORCE_SETS_from_strings(files["FORCE_SETS"], natom=len(phonon.supercell))
    max_drift = phonon_post.drift_remove(dataset)
    phonon.dataset = dataset
    t_read = time.perf_counter()
    phonon_post.produce_level1_fc(phonon)
    t_fc = time.perf_counter()
    result = phonon_post.post_process(phonon)
    t_end = time.perf_counter()

    # Cross-check our commensurate points against phonopy's own routine.
    from phonopy.harmonic.dynmat_to_fc import get_commensurate_points

    ours = np.array(result["commensurate"]["qpoints"])
    theirs = get_commensurate_points(np.array(result["supercell_matrix_wrt_primitive"]))
    def keyset(qs):
        return {tuple(np.round((q - np.floor(q + 1e-9)) * 1e6).astype(int)) for q in qs}
    if keyset(ours) != keyset(theirs):
        raise RuntimeError(f"{path.name}: commensurate points differ from phonopy's")

    return {
        "id": archive_id(path),
        "archive": path.name,
        "formula": formula(phonon.primitive.symbols),
        "name": path.name.removesuffix(".tar.lzma"),
        "n_atoms_unitcell": len(unitcell),
        "n_atoms_primitive": len(phonon.primitive),
        "n_atoms_supercell": len(phonon.supercell),
        "supercell_matrix": conf["supercell_matrix"].tolist(),
        "primitive_matrix": conf["primitive_matrix"].tolist(),
        "n_displacements": len(dataset["first_atoms"]),
        "has_born": "BORN" in files,
        "max_force_drift_removed_eV_A": max_drift,
        **result,
        "timing_s": {
            "read": t_read - t0,
            "force_constants": t_fc - t_read,
            "qpoints": t_end - t_fc,
            "total": t_end - t0,
        },
    }


def formula(symbols: list[str]) -> str:
    counts: dict[str, int] = {}
    for s in symbols:
        counts[s] = counts.get(s, 0) + 1
    return "".join(f"{s}{n if n > 1 else ''}" for s, n in counts.items())


def sha256_of(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", type=str, default="", help="comma-separated ids (mp-NNN) to process")
    ap.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="JSON {preset: {version, thresholdTHz, ...}} replacing the built-in rule numbers "
        "(bench/phonondb-parity.ts passes softmode's STABILITY_RULES so both sides use one definition)",
    )
    args = ap.parse_args()
    if args.rules is not None:
        phonon_post.set_rules(json.loads(args.rules.read_text()))

    archives = sorted(args.data.glob("*.tar.lzma"))
    if not archives:
        print(f"no archives in {args.data}", file=sys.stderr)
        return 2
    if args.only:
        wanted = set(args.only.split(","))
        archives = [a for a in archives if archive_id(a) in wanted]
        missing = wanted - {archive_id(a) for a in archives}
        if missing:
            print(f"unknown ids: {sorted(missing)}", file=sys.stderr)
            return 2

    import phonopy
    import seekpath
    import spglib

    t0 = time.perf_counter()
    results: list[dict] = []
    errors: list[dict] = []
    paths = [str(a) for a in archives]
    if args.jobs > 1:
        with Pool(args.jobs, initializer=phonon_post.set_rules, initargs=(phonon_post.RULES,)) as pool:
            iterator = pool.imap_unordered(_safe_process, paths, chunksize=1)
            for r in iterator:
                (errors if "error" in r else results).append(r)
                _progress(len(results) + len(errors), len(paths), r)
    else:
        for p in paths:
            r = _safe_process(p)
            (errors if "error" in r else results).append(r)
            _progress(len(results) + len(errors), len(paths), r)
    wall = time.perf_counter() - t0
    results.sort(key=lambda r: r["id"])

    script_files = [HERE / "phonondb_reference.py", HERE / "phonon_post.py"]
    out = {
        "generator": "tools/reference/phonondb_reference.py",
        "script_sha256": sha256_of(script_files),
        "inputs_sha256": sha256_of(archives) if not args.only else None,
        "data_dir": str(args.data),
        "versions": {
            "python": platform.python_version(),
            "phonopy": phonopy.__version__,
            "seekpath": seekpath.__version__,
            "spglib": spglib.__version__,
            "numpy": np.__version__,
        },
        "settings": {
            "drift_removal": True,
            "fc_symmetrization": "phonopy symmetrize_force_constants(level=1)",
            "nac": False,
            "symprec": phonon_post.SYMPREC,
            "band_points_longest_segment": phonon_post.BAND_POINTS_LONGEST_SEGMENT,
            "mesh_density": phonon_post.MESH_DENSITY,
            "mesh_symmetry_reduced": True,
            "thz_to_k": phonon_post.THZ_TO_K,
        },
        "rules": phonon_post.RULES,
        "archives": len(results),
        "errors": errors,
        "wall_s": wall,
        "jobs": args.jobs,
        "dft_labels": {r["id"]: r["labels"] for r in results},
        "materials": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(args.out)
    counts: dict[str, dict[str, int]] = {}
    for r in results:
        for preset, label in r["labels"].items():
            counts.setdefault(preset, {}).setdefault(label, 0)
            counts[preset][label] += 1
    print(f"{len(results)} archives, {len(errors)} errors, {wall:.1f} s with {args.jobs} jobs -> {args.out}")
    print(json.dumps(counts))
    return 1 if errors else 0


def _safe_process(path: str) -> dict:
    try:
        return process(path)
    except Exception as exc:  # keep going; the error is reported in the JSON
        return {"archive": Path(path).name, "error": f"{type(exc).__name__}: {exc}"}


def _progress(done: int, total: int, r: dict) -> None:
    if "error" in r:
        print(f"[{done}/{total}] {r['archive']}: ERROR {r['error']}", file=sys.stderr)
    elif done % 10 == 0 or done == total:
        print(f"[{done}/{total}] {r['id']} {r['timing_s']['total']:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
