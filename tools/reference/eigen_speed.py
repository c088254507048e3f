"""numpy/phonopy side of bench/phonon-speed.ts (npm run bench:phonon): reference timings
measured in the same run as softmode's, on the same inputs, one thread.

  python eigen_speed.py eigen DIR REPEATS
      DIR holds m<n>.bin files (complex128, n×n, row-major: the Hermitian matrices softmode
      solves). For each: median process time of numpy.linalg.eigh (values and vectors, LAPACK
      zheevd) and numpy.linalg.eigvalsh (values only: what phonopy's band path calls per q),
      after one warm-up call, and the eigenvalues (for the agreement check).
  python eigen_speed.py band ARCHIVE [REPEATS]
      A phonondb archive through phonopy as tools/reference/phonondb_reference.py reads it
      (drift removal, level-1 symmetrization), then the band path of phonon_post.band_path
      (HPKOT, 101 points on the longest segment) through phonon.run_qpoints (eigvalsh per q):
      median process time of that band-path solve.

Prints one JSON object on stdout. BLAS/OpenMP threads are pinned to one (set here before numpy
loads, and by the caller in the environment).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2]


def blas_info() -> dict:
    info: dict = {"numpy": np.__version__, "threads": {v: os.environ[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    try:
        from threadpoolctl import threadpool_info  # type: ignore

        info["threadpools"] = threadpool_info()
    except Exception:  # noqa: BLE001 - optional
        pass
    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.26
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["blas"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration") if k in blas}
        simd = cfg.get("SIMD Extensions", {})
        info["simd_found"] = simd.get("found")
    except Exception:  # noqa: BLE001 - older numpy
        pass
    return info


def eigen(directory: str, repeats: int) -> dict:
    out = []
    files = sorted(Path(directory).glob("m*.bin"), key=lambda p: int(p.stem[1:]))
    for f in files:
        n = int(f.stem[1:])
        a = np.fromfile(f, dtype=np.complex128).reshape(n, n)
        row = {"n": n}
        for name, fn in (("eigh", np.linalg.eigh), ("eigvalsh", np.linalg.eigvalsh)):
            fn(a)  # warm-up
            ts = []
            for _ in range(repeats):
                t0 = time.process_time()
                fn(a)
                ts.append(time.process_time() - t0)
            row[f"{name}_ms"] = median(ts) * 1000
            row[f"{name}_ms_all"] = [t * 1000 for t in ts]
        row["values"] = np.linalg.eigvalsh(a).tolist()
        out.append(row)
    return {"numpy": blas_info(), "sizes": out}


def band(archive: str, repeats: int) -> dict:
    from phonondb_reference import parse_conf, read_archive  # noqa: PLC0415
    import phonon_post  # noqa: PLC0415
    from phonopy import Phonopy  # noqa: PLC0415
    from phonopy.file_IO import parse_FORCE_SETS_from_strings  # noqa: PLC0415
    from phonopy.interface.vasp import read_vasp_from_strings  # noqa: PLC0415

    files = read_archive(Path(archive))
    conf = parse_conf(files["phonopy.conf"])
    unitcell = read_vasp_from_strings(files["POSCAR-unitcell"])
    phonon = Phonopy(unitcell, supercell_matrix=conf["supercell_matrix"], primitive_matrix=conf["primitive_matrix"], symprec=phonon_post.SYMPREC, log_level=0)
    dataset = parse_FORCE_SETS_from_strings(files["FORCE_SETS"], natom=len(phonon.supercell))
    phonon_post.drift_remove(dataset)
    phonon.dataset = dataset
    phonon_post.produce_level1_fc(phonon)
    t0 = time.process_time()
    path = phonon_post.band_path(phonon)
    t_path = time.process_time() - t0
    ts = []
    freqs = None
    for _ in range(repeats):
        t0 = time.process_time()
        freqs = phonon_post.frequencies_at(phonon, path["qpoints"])
        ts.append(time.process_time() - t0)
    import phonopy  # noqa: PLC0415

    return {
        "phonopy": phonopy.__version__,
        "primitive_atoms": len(phonon.primitive),
        "band_q": len(path["qpoints"]),
        "band_path_qpoints_s": t_path,
        "band_solve_s": median(ts),
        "band_solve_s_all": ts,
        "band_min_THz": float(np.min(freqs)),
        "numpy": blas_info(),
    }


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "eigen":
        print(json.dumps(eigen(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5)))
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "band":
        print(json.dumps(band(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
