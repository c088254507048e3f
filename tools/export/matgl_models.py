"""The matgl pretrained potentials softmode exports, and where their weights come from.

Standard library only: imported by the matgl reference (tools/.venv-matgl, matgl 2.0.4 + DGL) and
by the exporter (tools/.venv, torch 2.15 + onnx) alike.

Weights: the public repository materialsvirtuallab/matgl (BSD-3-Clause) keeps its pretrained
models in git under pretrained_models/<name>/{model.json, model.pt, state.pt}. We pin one commit
(the one whose source is matgl 2.0.4 on PyPI, file for file) and the sha256 of every file we read.
`weights_dir()` copies them out of a local bare clone of that repository (`--matgl-git-dir`, or the
environment variable MATGL_GIT_DIR) into tools/export/.cache/matgl/<commit>/<name>/, or uses such a
folder directly (`--weights-dir`), checking each file's sha256 either way.

Why matgl 2.0.4 and not the current matgl: matgl 3.0 (May 2026) changed the message-passing
convention of M3GNet and TensorNet and says weights trained under the old convention "are no longer
numerically valid"; these checkpoints were trained and published under the old one, so the old
code (2.0.4, the snapshot's own source) is their reference.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

MATGL_REPOSITORY = "https://github.com/materialsvirtuallab/matgl"
MATGL_COMMIT = "e9cde2291acd0b4c4a342428e7dd5e4d596b7bf9"  # 2025-12-01, pyproject version 2.0.4
MATGL_COMMIT_DATE = "2025-12-01T13:26:58-08:00"
MATGL_PYPI = "matgl==2.0.4"  # its source equals src/matgl at MATGL_COMMIT (checked file by file)
DEFAULT_GIT_DIRS = [Path("/work/.mirror/materialsvirtuallab+matgl/repo")]

# softmode name -> matgl pretrained model, architecture, backend, file checksums
MODELS: dict[str, dict] = {
    "m3gnet-mp-2021.2.8": {
        "matgl_name": "M3GNet-MP-2021.2.8-PES",
        "architecture": "matgl-m3gnet",
        "backend": "DGL",
        "description": "M3GNet universal potential, matgl's PyTorch refit on Materials Project relaxations "
        "as of 2021.2.8 (MPF-2021.2.8; 89 elements; the model of Dismai-Bench)",
        "training_data": "MP-2021.2.8 relaxation trajectories (167,378 training structures)",
        "sha256": {
            "model.json": "05e7db8676ceb37eb07848aff49c556b188699e1035f3df0cbbf1a2c4959148f",
            "model.pt": "62678f76fbc5d8997ea1d7f3c4bf086df200102125c802b32b08ce14fbcde25b",
            "state.pt": "a9aa723705bd1a242ec8749332f137811c4a94e17995a564f8f94a9aca68061b",
        },
        "paper": "C. Chen and S. P. Ong, A universal graph deep learning interatomic potential for the "
        "periodic table, Nature Computational Science 2, 718 (2022)",
    },
    "m3gnet-matpes-pbe-v2025.1": {
        "matgl_name": "M3GNet-MatPES-PBE-v2025.1-PES",
        "architecture": "matgl-m3gnet",
        "backend": "DGL",
        "description": "M3GNet universal potential trained on MatPES v2025.1 (PBE): 300 K MD snapshots and "
        "Materials Project ground states (89 elements; 128 hidden units, smooth radial basis)",
        "training_data": "MatPES-PBE v2025.1 (391,240 training structures)",
        "sha256": {
            "model.json": "6ab754c8593efef1005a37882a27b25417153bfd0b5624d0943901f18116b552",
            "model.pt": "94b511e45d576cb38a54e2d952fac1eb66e179fb3cddf48ccd86bf4f689f86df",
            "state.pt": "9f710eac88ec2c666c8e488883c59768cf11c116f177e9d82896ae56f3fc338d",
        },
        "paper": "A. Kaplan, R. Liu, J. Qi, T. W. Ko, B. Deng, G. Ceder, K. A. Persson, S. P. Ong, A foundational "
        "potential energy surface dataset for materials (MatPES), 2025; M3GNet: C. Chen and S. P. Ong, Nature "
        "Computational Science 2, 718 (2022)",
    },
    "tensornet-matpes-pbe-v2025.1": {
        "matgl_name": "TensorNet-MatPES-PBE-v2025.1-PES",
        "architecture": "matgl-tensornet",
        "backend": "PYG",
        "description": "TensorNet universal potential trained on MatPES v2025.1 (PBE): 300 K MD snapshots and "
        "Materials Project ground states (89 elements)",
        "training_data": "MatPES-PBE v2025.1 (391,240 training structures)",
        "sha256": {
            "model.json": "cf7d1db6c89da617245021a8fde16fb79db5bc06f7b6e11ee837f06eb32137d8",
            "model.pt": "1cba95766c872082eec349a7e417a28461aea450b655a0301eec060a985fdd71",
            "state.pt": "d2dfa51a65d23a47fd935eb0628177d2a1088584562091ef3350ce3a002fce6a",
        },
        "paper": "A. Kaplan, R. Liu, J. Qi, T. W. Ko, B. Deng, G. Ceder, K. A. Persson, S. P. Ong, A foundational "
        "potential energy surface dataset for materials (MatPES), 2025; TensorNet: G. Simeon and G. de Fabritiis, "
        "NeurIPS 2023",
    },
}

FILES = ("model.json", "model.pt", "state.pt")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(folder: Path, spec: dict) -> None:
    for f in FILES:
        p = folder / f
        if not p.exists():
            raise SystemExit(f"{p} is missing")
        got = sha256_file(p)
        if got != spec["sha256"][f]:
            raise SystemExit(f"sha256 of {p} is {got}, expected {spec['sha256'][f]} (matgl commit {MATGL_COMMIT})")


def weights_dir(name: str, git_dir: str | None = None, folder: str | None = None) -> Path:
    """A folder with model.json/model.pt/state.pt of softmode model `name`, checksums verified."""
    spec = MODELS[name]
    if folder:
        _check(Path(folder), spec)
        return Path(folder)
    cache = HERE / ".cache" / "matgl" / MATGL_COMMIT / spec["matgl_name"]
    if all((cache / f).exists() for f in FILES):
        _check(cache, spec)
        return cache
    candidates = [Path(git_dir)] if git_dir else ([Path(os.environ["MATGL_GIT_DIR"])] if os.environ.get("MATGL_GIT_DIR") else DEFAULT_GIT_DIRS)
    gd = next((c for c in candidates if c.exists()), None)
    if gd is None:
        raise SystemExit(
            f"the matgl weights are not here: clone {MATGL_REPOSITORY} (bare is fine) and pass --matgl-git-dir "
            f"(or MATGL_GIT_DIR), or pass --weights-dir with {', '.join(FILES)} of {spec['matgl_name']} at commit {MATGL_COMMIT}"
        )
    tmp = cache.with_name(cache.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in FILES:
        blob = subprocess.run(
            ["git", f"--git-dir={gd}", "show", f"{MATGL_COMMIT}:pretrained_models/{spec['matgl_name']}/{f}"],
            check=True, capture_output=True,
        ).stdout
        (tmp / f).write_bytes(blob)
    _check(tmp, spec)
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)
    return cache


def licence_text(git_dir: str | None = None) -> str | None:
    """matgl's LICENSE at the pinned commit, when a clone is at hand."""
    candidates = [Path(git_dir)] if git_dir else ([Path(os.environ["MATGL_GIT_DIR"])] if os.environ.get("MATGL_GIT_DIR") else DEFAULT_GIT_DIRS)
    for gd in candidates:
        if gd.exists():
            return subprocess.run(
                ["git", f"--git-dir={gd}", "show", f"{MATGL_COMMIT}:LICENSE"], check=True, capture_output=True, text=True
            ).stdout
    return None
