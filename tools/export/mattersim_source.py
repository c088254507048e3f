"""Make MatterSim's M3GNet model code importable without installing the `mattersim` package.

Why: mattersim's wheel requires numpy>=2 (tools/requirements.txt keeps numpy<2 for chgnet) and
a long tail of training/cloud dependencies; its checkpoints are downloaded at run time from
GitHub, so they cannot be had on these machines anyway. The model code itself needs only
torch, e3nn, torch_runstats, opt_einsum_fx and scikit-learn (tools/requirements-export.txt).
We fetch the pinned wheel with `pip download --no-deps` into tools/export/.cache/, unpack it
there, and import `mattersim.forcefield.m3gnet` with `mattersim.forcefield`'s __init__ (which
imports the training stack) bypassed.
"""

from __future__ import annotations

import subprocess
import sys
import types
import zipfile
from pathlib import Path

MATTERSIM_SPEC = "mattersim==1.2.3"
CACHE = Path(__file__).resolve().parent / ".cache"
SRC = CACHE / "mattersim-1.2.3"


def ensure_mattersim_source() -> Path:
    if not (SRC / "mattersim" / "forcefield" / "m3gnet" / "m3gnet.py").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        wheels = sorted(CACHE.glob("mattersim-1.2.3-*.whl"))
        if not wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", MATTERSIM_SPEC, "--no-deps", "--only-binary", ":all:", "-d", str(CACHE)],
                check=True,
            )
            wheels = sorted(CACHE.glob("mattersim-1.2.3-*.whl"))
        with zipfile.ZipFile(wheels[0]) as zf:
            zf.extractall(SRC)
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    if "mattersim.forcefield" not in sys.modules:
        import mattersim  # noqa: F401  (top-level __init__ only imports __version__)

        pkg = types.ModuleType("mattersim.forcefield")
        pkg.__path__ = [str(SRC / "mattersim" / "forcefield")]
        sys.modules["mattersim.forcefield"] = pkg
    return SRC


def m3gnet_class():
    ensure_mattersim_source()
    from mattersim.forcefield.m3gnet.m3gnet import M3Gnet

    return M3Gnet
