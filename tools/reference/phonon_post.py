"""Reference phonon post-processing with phonopy + seekpath, following
../shared/docs/physics.md sections 2, 4 and 5.

Shared by phonondb_reference.py (DFT force sets) and pipeline.py (CHGNet forces),
so that both reference numbers come from one implementation of the q-point
choices and the stability rules. Python is tooling only: the product never
imports this.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import seekpath
from phonopy import Phonopy

# THz -> K (h/k_B), the factor physics.md section 5 prescribes for the `loew` preset.
THZ_TO_K = 47.992

# Versioned stability rules (physics.md section 5). The defaults mirror softmode's
# STABILITY_RULES (config/phonon.ts); bench/phonondb-parity.ts passes softmode's own numbers
# with --rules (set_rules) and reruns the reference whenever they differ from the stored ones.
RULES: dict[str, dict[str, Any]] = {
    "phononbench": {
        "version": "phononbench-1",
        "where": "band path",
        "thresholdTHz": 1e-3,  # unstable if min nu < -threshold
    },
    "loew": {
        "version": "loew-2",
        "where": "commensurate q",
        "gammaAcousticThresholdK": 35.0,  # Gamma's three lowest modes may go down to -35 K
        "otherThresholdK": 0.005,  # every other mode >= 0 K, numerical zero 0.005 K (1e-4 THz)
    },
    "mattersim": {
        "version": "mattersim-1",
        "where": "band path",
        "thresholdTHz": 0.299,
    },
    "full-bz": {
        "version": "full-bz-1",
        "where": "commensurate q + band path + mesh",
        # unstable if any non-exempt nu < -threshold; the three lowest modes at q == Gamma
        # are exempt while |nu| <= gammaAcousticToleranceTHz.
        "thresholdTHz": 0.01,
        "gammaAcousticToleranceTHz": 0.05,
    },
}


def set_rules(rules: dict[str, dict[str, Any]]) -> None:
    """Replace rule numbers (same presets and keys as RULES; unknown presets or keys are an
    error, so a renamed field cannot silently fall back to a default)."""
    for preset, values in rules.items():
        if preset not in RULES:
            raise ValueError(f"unknown preset {preset!r}")
        for key, value in values.items():
            if key not in RULES[preset]:
                raise ValueError(f"unknown rule field {preset}.{key}")
            RULES[preset][key] = value


BAND_POINTS_LONGEST_SEGMENT = 101
MESH_DENSITY = 100.0
SYMPREC = 1e-5


def drift_remove(dataset: dict) -> float:
    """Subtract the mean force from each displaced supercell (physics.md section 2).

    Returns the largest |mean force| component removed, so the caller can record it.
    """
    max_drift = 0.0
    for entry in dataset["first_atoms"]:
        forces = np.array(entry["forces"], dtype="double")
        drift = forces.mean(axis=0)
        max_drift = max(max_drift, float(np.abs(drift).max()))
        entry["forces"] = forces - drift
    return max_drift


def produce_level1_fc(phonon: Phonopy) -> None:
    """Phonopy's traditional FD solver followed by level-1 translational/permutation
    symmetrization, as every reference pipeline does."""
    phonon.produce_force_constants(show_drift=False)
    phonon.symmetrize_force_constants(level=1, show_drift=False)


def supercell_matrix_wrt_primitive(phonon: Phonopy) -> np.ndarray:
    """P^-1 S (physics.md section 4), the way phonopy builds its commensurate points."""
    smat = np.linalg.inv(phonon.primitive.primitive_matrix)
    rounded = np.rint(smat)
    if np.abs(smat - rounded).max() > 1e-6:
        raise ValueError(f"supercell is not a multiple of the primitive cell: {smat}")
    return rounded.astype(int)


def commensurate_qpoints(smat: np.ndarray) -> np.ndarray:
    """q = S^-T n mod 1 for the integer points n of the supercell's reciprocal lattice.

    Written from the definition (not via phonopy) so that the reference is transparent:
    the q's are the points of the primitive reciprocal cell that are reciprocal lattice
    vectors of the supercell. Enumerates n in a box large enough to cover det(S) classes.
    """
    smat = np.asarray(smat, dtype=int)
    n_expected = int(round(abs(np.linalg.det(smat))))
    # Columns of smat are the supercell lattice vectors in primitive fractional
    # coordinates (phonopy's column convention), so q is commensurate iff S^T q is
    # integer: q = S^-T m for integer m.
    sinv_t = np.linalg.inv(smat.T)
    found: dict[tuple[int, int, int], np.ndarray] = {}
    bound = int(np.abs(smat).sum(axis=0).max())
    rng = range(-bound, bound + 1)
    for c in rng:
        for b in rng:
            for a in rng:
                q = sinv_t @ np.array([a, b, c], dtype=float)
                q = q - np.floor(q + 1e-9)
                key = tuple(int(round(x * n_expected * 4)) % (n_expected * 4) for x in q)
                if key not in found:
                    found[key] = q
    qs = np.array(list(found.values()))
    if len(qs) != n_expected:
        raise RuntimeError(f"found {len(qs)} commensurate points, expected {n_expected}")
    # Gamma first, then a index fastest (sort by c, b, a).
    order = np.lexsort((qs[:, 0], qs[:, 1], qs[:, 2]))
    return qs[order]


def band_path(phonon: Phonopy, phononbench_compat: bool = False) -> dict[str, Any]:
    """HPKOT path of seekpath mapped to the primitive cell that is diagonalized
    (seekpath get_path_orig_cell), 101 points on the longest segment,
    n_seg = max(2, rint(101 * l / l_max)), end points included.

    phononbench_compat: PhononBench's quirk, seekpath's standardized-primitive coordinates
    used verbatim as fractional coordinates of the diagonalized cell (correct only when that
    cell is the HPKOT primitive); segment lengths are then those of the verbatim coordinates.
    """
    prim = phonon.primitive
    cell = (np.array(prim.cell), np.array(prim.scaled_positions), list(prim.numbers))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if phononbench_compat:
            res = seekpath.get_path(cell, with_time_reversal=True, symprec=SYMPREC)
            res["is_supercell"] = False
        else:
            res = seekpath.get_path_orig_cell(cell, with_time_reversal=True, symprec=SYMPREC)
    if res["is_supercell"]:
        raise RuntimeError("seekpath says the primitive cell is a supercell")
    rec = np.linalg.inv(np.array(prim.cell)).T  # rows = reciprocal vectors (no 2 pi)
    coords = {k: np.array(v, dtype=float) for k, v in res["point_coords"].items()}
    segments = []
    lengths = []
    for start, end in res["path"]:
        ks, ke = coords[start], coords[end]
        lengths.append(float(np.linalg.norm((ke - ks) @ rec)))
        segments.append((start, end, ks, ke))
    lmax = max(lengths)
    qpoints = []
    seg_info = []
    for (start, end, ks, ke), length in zip(segments, lengths):
        n = max(2, int(np.rint(BAND_POINTS_LONGEST_SEGMENT * length / lmax)))
        t = np.linspace(0.0, 1.0, n)
        seg_q = ks[None, :] + t[:, None] * (ke - ks)[None, :]
        seg_info.append(
            {
                "from": start,
                "to": end,
                "from_q": ks.tolist(),
                "to_q": ke.tolist(),
                "n": n,
                "offset": len(qpoints),
            }
        )
        qpoints.extend(seg_q.tolist())
    return {
        "qpoints_basis": "hpkot-primitive (verbatim)" if phononbench_compat else "diagonalized cell",
        "bravais_lattice_extended": res["bravais_lattice_extended"],
        "spacegroup_number": int(res["spacegroup_number"]),
        "segments": seg_info,
        "qpoints": np.array(qpoints),
    }


def mesh_numbers(phonon: Phonopy) -> list[int]:
    """N_i = max(1, rint(100 |b_i|)), b_i = columns of L^-1 (physics.md section 4)."""
    lat = np.array(phonon.primitive.cell)
    b = np.linalg.inv(lat)
    return [max(1, int(np.rint(MESH_DENSITY * np.linalg.norm(b[:, i])))) for i in range(3)]


def frequencies_at(phonon: Phonopy, qpoints: np.ndarray) -> np.ndarray:
    phonon.run_qpoints(np.asarray(qpoints, dtype="double"))
    return np.array(phonon.get_qpoints_dict()["frequencies"])


def _argmin(freqs: np.ndarray, qpoints: np.ndarray) -> dict[str, Any]:
    iq, band = np.unravel_index(int(np.argmin(freqs)), freqs.shape)
    return {
        "min_THz": float(freqs[iq, band]),
        "q": [float(x) for x in qpoints[iq]],
        "band": int(band),
    }


def is_gamma(q: np.ndarray) -> bool:
    return bool(np.all(np.abs(q - np.rint(q)) < 1e-8))


def gamma_acoustic_bands(phonon: Phonopy) -> tuple[list[int], list[float]]:
    """Indices (in ascending-frequency order at q = 0) of the three modes that are rigid
    translations: the largest projections of the eigenvectors on the mass-weighted
    uniform displacements. A diagnostic: full-bz-1 exempts "the three lowest", which is
    the same set unless an optical mode at Gamma is (near-)imaginary."""
    phonon.run_qpoints([[0.0, 0.0, 0.0]], with_eigenvectors=True)
    qd = phonon.get_qpoints_dict()
    freqs = np.array(qd["frequencies"][0])
    vecs = np.array(qd["eigenvectors"][0])  # columns are modes
    masses = np.array(phonon.primitive.masses)
    n = len(masses)
    weight = np.zeros(3 * n)
    for alpha in range(3):
        t = np.zeros(3 * n)
        t[alpha::3] = np.sqrt(masses)
        t /= np.linalg.norm(t)
        weight += np.abs(t @ vecs) ** 2
    bands = sorted(int(b) for b in np.argsort(-weight)[:3])
    return bands, [float(freqs[b]) for b in bands]


def _min_excluding_gamma_acoustic(freqs: np.ndarray, qpoints: np.ndarray, tol: float):
    """Minimum over all (q, band), leaving out the three lowest modes at q == Gamma when
    they lie within +-tol (full-bz-1). Returns (value, q, band) or None when nothing is left."""
    best = None
    for iq, q in enumerate(qpoints):
        f = freqs[iq]
        skip = set()
        if is_gamma(q):
            skip = {b for b in range(min(3, len(f))) if abs(f[b]) <= tol}
        for band in range(len(f)):
            if band in skip:
                continue
            if best is None or f[band] < best[0]:
                best = (float(f[band]), [float(x) for x in q], int(band))
    return best


def classify(comm_q, comm_f, band_q, band_f, mesh_q, mesh_f) -> dict[str, Any]:
    """Labels under every preset (physics.md section 5), plus where full-bz's minimum is.
    Frequencies are ascending per q (LAPACK order), so band < 3 at Gamma = three lowest."""
    labels: dict[str, str] = {}
    details: dict[str, Any] = {}

    band_min = float(band_f.min())
    for preset in ("phononbench", "mattersim"):
        labels[preset] = "unstable" if band_min < -RULES[preset]["thresholdTHz"] else "stable"

    r = RULES["loew"]
    reasons = []
    for iq, q in enumerate(comm_q):
        f_k = np.sort(comm_f[iq]) * THZ_TO_K
        if is_gamma(q):
            if np.any(f_k[:3] < -r["gammaAcousticThresholdK"]):
                reasons.append("gamma acoustic below -35 K")
            if np.any(f_k[3:] < -r["otherThresholdK"]):
                reasons.append("gamma optical below 0")
        elif np.any(f_k < -r["otherThresholdK"]):
            reasons.append("mode below 0 at q != Gamma")
    labels["loew"] = "unstable" if reasons else "stable"
    details["loew_reasons"] = sorted(set(reasons))

    r = RULES["full-bz"]
    candidates = []
    for where, q, f in (("commensurate", comm_q, comm_f), ("band", band_q, band_f), ("mesh", mesh_q, mesh_f)):
        m = _min_excluding_gamma_acoustic(f, q, r["gammaAcousticToleranceTHz"])
        if m is not None:
            candidates.append((m[0], where, m[1], m[2]))
    if candidates:
        value, where, q, band = min(candidates, key=lambda c: c[0])
        labels["full-bz"] = "unstable" if value < -r["thresholdTHz"] else "stable"
        details["full_bz_min"] = {"min_THz": value, "where": where, "q": q, "band": band}
    else:
        labels["full-bz"] = "stable"
        details["full_bz_min"] = None
    return {"labels": labels, **details}


def post_process(phonon: Phonopy, keep_commensurate: bool = True, phononbench_compat: bool = False) -> dict[str, Any]:
    """Everything a label needs, from a Phonopy object whose force constants are set."""
    smat = supercell_matrix_wrt_primitive(phonon)
    comm_q = commensurate_qpoints(smat)
    comm_f = frequencies_at(phonon, comm_q)

    path = band_path(phonon, phononbench_compat)
    band_q = path.pop("qpoints")
    band_f = frequencies_at(phonon, band_q)

    mesh = mesh_numbers(phonon)
    phonon.run_mesh(mesh, is_gamma_center=True, with_eigenvectors=False)
    md = phonon.get_mesh_dict()
    mesh_q = np.array(md["qpoints"])
    mesh_f = np.array(md["frequencies"])

    gamma_idx = [i for i, q in enumerate(comm_q) if is_gamma(q)]
    gamma_f = comm_f[gamma_idx[0]]
    acoustic, acoustic_f = gamma_acoustic_bands(phonon)
    out: dict[str, Any] = {
        "supercell_matrix_wrt_primitive": smat.tolist(),
        "commensurate": {
            "n": int(len(comm_q)),
            **_argmin(comm_f, comm_q),
        },
        "gamma_frequencies_THz": [float(x) for x in gamma_f],
        "gamma_acoustic_bands": acoustic,
        # Acoustic-sum check: the translation modes (by eigenvector) at Gamma should be ~0.
        "acoustic_gamma_max_abs_THz": float(max(abs(x) for x in acoustic_f)),
        # Diagnostic: full-bz-1 exempts the three lowest Gamma modes; flag cells where those
        # are not the translations (an imaginary optical mode could then be exempted).
        "gamma_lowest_three_are_acoustic": acoustic == [0, 1, 2],
        "nu_max_K": float(comm_f.max() * THZ_TO_K),
        "band_path": {**path, "n": int(len(band_q)), **_argmin(band_f, band_q)},
        "mesh": {
            "mesh": mesh,
            "n_irreducible": int(len(mesh_q)),
            **_argmin(mesh_f, mesh_q),
        },
    }
    if keep_commensurate:
        out["commensurate"]["qpoints"] = comm_q.tolist()
        out["commensurate"]["frequencies_THz"] = comm_f.tolist()
    out.update(classify(comm_q, comm_f, band_q, band_f, mesh_q, mesh_f))
    return out
