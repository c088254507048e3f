"""Locate, verify and load the CHGNet 0.3.0 pretrained checkpoint.

The `chgnet==0.3.0` wheel on PyPI is yanked because its pretrained weights were not
attached; later wheels (tools/requirements.txt pins chgnet==0.3.8) ship the very same 0.3.0
checkpoint (`chgnet/pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar`) and model code whose
arithmetic is unchanged for it (checked by diffing 0.3.1 and 0.3.8 against 0.3.0: keyword-only
arguments, docstrings, device handling). We use the checkpoint of the installed package when
its sha256 matches; otherwise we fetch the pinned wheel with pip (ordinary registry client)
into tools/export/.cache/ and extract the checkpoint from it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL_SPEC = "chgnet==0.3.8"
CHECKPOINT_MEMBER = "chgnet/pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar"
# sha256 of the checkpoint file as shipped in chgnet 0.3.1 ... 0.3.8 wheels
CHECKPOINT_SHA256 = "d14ab7c0f093efe64b60a7bcd540bca10e74fb7f46c86108a079af60524659d1"

CACHE_DIR = Path(__file__).resolve().parent / ".cache"


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checkpoint_path() -> Path:
    """Path of the verified CHGNet 0.3.0 checkpoint, downloading the wheel if needed."""
    import chgnet

    installed = Path(chgnet.__file__).resolve().parent.parent / CHECKPOINT_MEMBER
    if installed.exists() and sha256_of(installed) == CHECKPOINT_SHA256:
        return installed
    target = CACHE_DIR / Path(CHECKPOINT_MEMBER).name
    if target.exists() and sha256_of(target) == CHECKPOINT_SHA256:
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    wheels = sorted(CACHE_DIR.glob("chgnet-0.3.8-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", WHEEL_SPEC, "--no-deps",
             "--only-binary", ":all:", "-d", str(CACHE_DIR)],
            check=True,
        )
        wheels = sorted(CACHE_DIR.glob("chgnet-0.3.8-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download {WHEEL_SPEC} produced no wheel in {CACHE_DIR}")
    with zipfile.ZipFile(wheels[0]) as zf, open(target, "wb") as out:
        out.write(zf.read(CHECKPOINT_MEMBER))
    got = sha256_of(target)
    if got != CHECKPOINT_SHA256:
        target.unlink()
        raise RuntimeError(f"checkpoint sha256 mismatch: got {got}, expected {CHECKPOINT_SHA256}")
    return target


def load_chgnet():
    """CHGNet (installed code) with the verified 0.3.0 weights, in eval mode, on the CPU."""
    import contextlib
    import io

    import torch
    from chgnet.model.model import CHGNet

    state = torch.load(checkpoint_path(), map_location="cpu", weights_only=False)
    with contextlib.redirect_stdout(io.StringIO()):  # silence the parameter-count banner
        model = CHGNet.from_dict(state["model"])
    model.eval()
    return model


if __name__ == "__main__":
    print(checkpoint_path())
