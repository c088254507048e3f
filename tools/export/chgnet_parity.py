"""PyTorch side of `npm run parity:mlip`: CHGNet 0.3.0 predictions (its own PyTorch forward,
float32 and float64) for frames of ../shared/data/parity/*.xyz and MatterGen CIFs, written
as JSON for bench/mlip-parity.ts to compare with the ONNX model in Node.

    tools/.venv/bin/python tools/export/chgnet_parity.py --out tools/export/.cache/mlip-parity-pytorch.json

Selection (deterministic): every k-th frame of each xyz file (k = 1000 / frames-per-file) and
every k-th non-"_symmetrized" MatterGen CIF in sorted path order. The structures are written
as parsed here (ASE for xyz, pymatgen for CIF) so both sides evaluate the same atoms in the
same order; the DFT labels of the xyz frames are read on the Node side with our own reader.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--out", default=str(HERE / ".cache" / "mlip-parity-pytorch.json"))
    ap.add_argument("--frames-per-file", type=int, default=125)
    ap.add_argument("--mattergen", type=int, default=60)
    ap.add_argument("--precisions", default="float32,float64")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import chgnet
    import numpy as np
    import torch
    from ase.io import read
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    from chgnet_checkpoint import CHECKPOINT_SHA256
    from chgnet_reference import ChgnetReference, structure_dict

    shared = Path(args.shared)
    items = []
    for xyz in sorted((shared / "data" / "parity").glob("*.xyz")):
        frames = read(str(xyz), index=":")
        step = max(1, len(frames) // args.frames_per_file)
        for idx in range(0, len(frames), step)[: args.frames_per_file]:
            s = AseAtomsAdaptor.get_structure(frames[idx])
            items.append({"source": str(xyz.relative_to(shared)), "index": idx, "kind": "xyz", "s": s})
    cifs = sorted(p for p in (shared / "data" / "structures" / "mattergen").rglob("*.cif") if "_symmetrized" not in p.name)
    step = max(1, len(cifs) // args.mattergen)
    for p in cifs[::step][: args.mattergen]:
        s = Structure.from_file(str(p))
        items.append({"source": str(p.relative_to(shared)), "index": 0, "kind": "cif", "s": s})

    ref = ChgnetReference(threads=args.threads)
    precisions = [p for p in args.precisions.split(",") if p]
    out_items = []
    timing = {}
    kept = []
    for it in items:
        try:
            ref.graphs([it["s"]], "float32")
        except (ValueError, SystemExit) as exc:  # CHGNet refuses e.g. isolated atoms
            print(f"skip {it['source']}#{it['index']}: {exc}", file=sys.stderr)
            continue
        kept.append(it)
    for precision in precisions:
        t0 = time.time()
        preds = []
        for k in range(0, len(kept), 16):
            preds += ref.predict([it["s"] for it in kept[k : k + 16]], precision, batch_size=16)
        timing[precision] = time.time() - t0
        for it, (e, f, s) in zip(kept, preds):
            it[f"pytorch_{precision}"] = {"energy": e, "forces": np.asarray(f).tolist(), "stress": np.asarray(s).tolist()}
        print(f"pytorch {precision}: {len(kept)} structures in {timing[precision]:.1f}s", file=sys.stderr)
    for it in kept:
        d = {k: v for k, v in it.items() if k != "s"}
        d["structure"] = structure_dict(it["s"])
        out_items.append(d)
    out = {
        "generated_by": "tools/export/chgnet_parity.py",
        "chgnet_package": chgnet.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "checkpoint_sha256": CHECKPOINT_SHA256,
        "selection": {"frames_per_file": args.frames_per_file, "mattergen": args.mattergen},
        "seconds": timing,
        "items": out_items,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out))
    print(f"wrote {args.out}: {len(out_items)} structures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
