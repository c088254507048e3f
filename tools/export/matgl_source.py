"""Make matgl 2.0.4's model code importable in the export environment (tools/.venv, torch 2.15)
without installing the `matgl` package there.

Why: matgl 2.0.4 pins torch<=2.7 (pip would downgrade the exporter's torch) and its M3GNet needs
DGL, whose newest PyPI wheel needs torch<=2.2, too old for the ONNX exporter. The exporter only
needs matgl's pure-PyTorch layers (radial and angular bases, MLPs, TensorNet's PyG layers); the
DGL-specific top level is re-stated in matgl_flat.py. So, as for MatterSim (mattersim_source.py),
we fetch the pinned wheel with `pip download --no-deps` into tools/export/.cache/, unpack it there,
and import it with the PyG backend (torch-geometric is in tools/requirements-export.txt).
The reference itself (matgl_parity.py) runs the installed package in tools/.venv-matgl.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from matgl_models import MATGL_PYPI

CACHE = Path(__file__).resolve().parent / ".cache"
VERSION = MATGL_PYPI.split("==")[1]
SRC = CACHE / f"matgl-{VERSION}"


def ensure_matgl_source() -> Path:
    if not (SRC / "matgl" / "models" / "_m3gnet.py").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        wheels = sorted(CACHE.glob(f"matgl-{VERSION}-*.whl"))
        if not wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", MATGL_PYPI, "--no-deps", "--only-binary", ":all:", "-d", str(CACHE)],
                check=True,
            )
            wheels = sorted(CACHE.glob(f"matgl-{VERSION}-*.whl"))
        with zipfile.ZipFile(wheels[0]) as zf:
            zf.extractall(SRC)
    os.environ["MATGL_BACKEND"] = "PYG"
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import matgl

    if Path(matgl.__file__).resolve().parent != (SRC / "matgl").resolve():
        raise SystemExit(f"imported matgl from {matgl.__file__}, expected the pinned source in {SRC}")
    _untorchscript()
    return SRC


def _untorchscript() -> None:
    """matgl's scatter_add calls a @torch.jit.script helper; TorchScript turns the symbolic
    number of atoms into a constant while tracing, so use the same arithmetic in plain Python."""
    import torch
    import matgl.utils.maths as mm

    def _scatter_add(x: torch.Tensor, idx_i: torch.Tensor, dim_size: int, dim: int = 0) -> torch.Tensor:
        shape = list(x.shape)
        shape[dim] = dim_size
        return torch.zeros(shape, dtype=x.dtype, device=x.device).index_add(dim, idx_i, x)

    mm._scatter_add = _scatter_add
