"""Vector store backends behind a small Protocol. Chroma, embedded or as a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np


class VectorStoreError(RuntimeError):
    """The vector store cannot be reached or used; the message says what to do."""


class VectorStore(Protocol):
    def add(self, ids: list[str], embeddings: np.ndarray, metadatas: list[dict[str, Any]],
            documents: list[str]) -> None: ...

    def query(self, embedding: np.ndarray, k: int, files: list[str] | None = None) -> list[tuple[str, float]]: ...

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]: ...

    def count(self) -> int: ...

    def drop(self) -> None: ...


def chroma_client(path: Path | None, host: str = "", port: int = 8000, timeout_s: float = 10.0):
    """An embedded client on `path`, or an HTTP client when a host is given. No telemetry."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        try:
            client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
            client.heartbeat()
            return client
        except Exception as exc:  # chromadb raises several kinds for "not there"
            raise VectorStoreError(
                f"Chroma-servern på {host}:{port} svarar inte ({type(exc).__name__}). "
                "Starta den (`chroma run --path index/chroma-server`) eller ta bort chroma_host ur inställningarna."
            ) from exc
    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class ChromaStore:
    def __init__(self, client, collection: str, create: bool = False) -> None:
        self._client = client
        self.collection_name = collection
        try:
            if create:
                self._collection = client.get_or_create_collection(
                    collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
                )
            else:
                self._collection = client.get_collection(collection, embedding_function=None)
        except Exception as exc:
            raise VectorStoreError(f"Chroma-samlingen {collection!r} kan inte öppnas ({exc})") from exc

    def add(self, ids, embeddings, metadatas, documents) -> None:
        step = 256
        for start in range(0, len(ids), step):
            end = start + step
            self._collection.add(
                ids=ids[start:end],
                embeddings=np.asarray(embeddings[start:end], dtype=np.float32),
                metadatas=metadatas[start:end],
                documents=documents[start:end],
            )

    def query(self, embedding, k, files=None):
        where = {"file": {"$in": list(files)}} if files else None
        k = min(k, max(self.count(), 1))
        try:
            result = self._collection.query(
                query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k, where=where,
                include=["distances"],
            )
        except Exception as exc:
            raise VectorStoreError(f"Sökningen i Chroma misslyckades ({type(exc).__name__}: {exc})") from exc
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def embeddings(self, ids):
        if not ids:
            return {}
        result = self._collection.get(ids=ids, include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(result["ids"], result["embeddings"])}

    def count(self) -> int:
        return self._collection.count()

    def drop(self) -> None:
        self._client.delete_collection(self.collection_name)
