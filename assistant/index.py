"""The index: chunks, vectors (Chroma), BM25 and the table store, built together.

Layout under `settings.index_dir`:
    builds/<id>/       one complete build: meta.json, chunks.jsonl, bm25/, tables.sqlite3, chroma/
    live -> builds/<id> a symlink, replaced atomically when a build is complete

A build happens beside the live one and is swapped in at the very end, so a crash or Ctrl-C
mid-way leaves the previous index answering. Files whose content, title, chunker and model are
unchanged reuse their chunks and vectors from the live build instead of being embedded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .chunking import ChunkerParams, chunk_document, embedding_text
from .embedding import Embedder
from .ingest import CLEANER_VERSION, scan_corpus
from .lexical import TOKENIZER_VERSION, BM25Index
from .records import Chunk, Document, DocumentInfo
from .semantic import SEMANTIC_VERSION, SemanticIndex, row_units, sentence_units
from .settings import Settings
from .vectorstore import ChromaStore, VectorStore, VectorStoreError, chroma_client

# 2: the semantic index (one vector per sentence and per table row) is part of every build.
INDEX_FORMAT = 2
REBUILD_COMMAND = "python -m assistant ingest"


class IndexError_(RuntimeError):
    """The index is missing, damaged or was built differently; the message names the fix."""


class IndexMissing(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    """A build whose files cannot be read (damaged meta.json, Chroma or table database).

    Raised instead of the raw sqlite/chromadb error so the CLI and the app can say which
    command repairs it; the next ingest rebuilds over it.
    """


@dataclass
class IngestReport:
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    tables: int = 0
    cells: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False
    build: str = ""

    def summary(self) -> str:
        if self.unchanged:
            return f"Indexet är redan aktuellt ({self.documents} dokument, {self.chunks} delar); inget byggdes om."
        return (
            f"Klart på {self.seconds:.1f} s: {self.documents} dokument, {self.chunks} delar "
            f"({self.embedded} inbäddade, {self.reused} återanvända), {self.tables} tabeller med "
            f"{self.cells} celler." + (f" {len(self.skipped)} fil(er) hoppades över." if self.skipped else "")
        )


def _store_location(settings: Settings) -> str:
    return f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "embedded"


def _open_store(settings: Settings, build_dir: Path, collection: str, create: bool) -> VectorStore:
    if settings.chroma_host:
        client = chroma_client(None, settings.chroma_host, settings.chroma_port)
    else:
        client = chroma_client(build_dir / "chroma")
    return ChromaStore(client, collection, create=create)


def _file_key(doc: Document, settings: Settings, params: ChunkerParams) -> str:
    """What a file's chunks and vectors depend on; equal keys mean they can be reused."""
    parts = [doc.sha256, doc.info.title, json.dumps(params.as_dict()), settings.embedding_model, str(INDEX_FORMAT),
             f"cleaner={CLEANER_VERSION}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def builders() -> dict[str, str]:
    """The versions of everything a build is made with beyond the chunks and their vectors: a change
    in any of them (a new table extractor, another BM25 tokenizer) makes the next ingest rebuild."""
    from .tables import EXTRACTOR_VERSION, SCHEMA_VERSION

    return {"cleaner": str(CLEANER_VERSION), "tables": f"{EXTRACTOR_VERSION}/{SCHEMA_VERSION}", "tokenizer": str(TOKENIZER_VERSION),
            "semantic": str(SEMANTIC_VERSION), "format": str(INDEX_FORMAT)}


def _fingerprint(docs: list[Document], keys: dict[str, str], corpus_dir: Path, settings: Settings) -> str:
    manifest = corpus_dir / "manifest.toml"
    parts = sorted(f"{d.file}={keys[d.file]}" for d in docs)
    parts += [f"{k}={v}" for k, v in sorted(builders().items())]
    parts.append(hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else "-")
    parts.append(_store_location(settings))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def read_meta(build_dir: Path) -> dict | None:
    try:
        meta = json.loads((build_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None  # valid JSON that is not our object is damage too


def live_build(settings: Settings) -> Path | None:
    live = settings.live_index
    if not live.exists():
        return None
    return live.resolve()


def build_index(settings: Settings, embedder: Embedder, progress: bool = True,
                log: Callable[[str], None] = print) -> IngestReport:
    started = time.perf_counter()
    params = ChunkerParams(settings.chunk_max_chars, settings.chunk_min_chars)
    scan = _scan(settings, log)
    docs = scan.documents
    keys = {d.file: _file_key(d, settings, params) for d in docs}
    fingerprint = _fingerprint(docs, keys, settings.corpus_dir, settings)

    previous_dir = live_build(settings)
    previous = read_meta(previous_dir) if previous_dir else None
    report = IngestReport(documents=len(docs), skipped=scan.skipped)
    if _unchanged(settings, previous_dir, previous, fingerprint):
        report.unchanged = True
        report.chunks = previous["counts"]["chunks"]
        report.seconds = time.perf_counter() - started
        return report

    builds = settings.index_dir / "builds"
    build_id, build_dir = _start_build(settings, builds, previous_dir)
    report.build = build_id

    chunks_by_file, reuse = _chunks_with_reuse(docs, keys, params, previous, previous_dir)
    all_chunks = [c for d in docs for c in chunks_by_file[d.file]]
    titles = {d.file: d.info.title for d in docs}
    texts = [embedding_text(c, titles[c.file]) for c in all_chunks]

    collection = f"{settings.chroma_collection}-{build_id}".replace(".", "-")
    store = _open_store(settings, build_dir, collection, create=True)
    old_vectors = _previous_vectors(settings, previous, previous_dir, reuse)
    vectors, report.embedded, report.reused = _embed(embedder, all_chunks, texts, old_vectors, progress)
    store.add([c.id for c in all_chunks], vectors, [_metadata(c) for c in all_chunks], texts)

    table_counts, semantic_counts = _write_search_files(docs, all_chunks, texts, build_dir, embedder,
                                                        previous_dir, progress)
    report.tables, report.cells = table_counts.get("tables", 0), table_counts.get("cells", 0)
    report.chunks = len(all_chunks)

    meta = _build_meta(settings, params, fingerprint, scan.skipped, docs, keys, chunks_by_file,
                       embedding_dim=int(vectors.shape[1]) if len(vectors) else 0, collection=collection,
                       table_counts=table_counts, semantic_counts=semantic_counts)
    (build_dir / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    _publish(settings, builds / build_id, build_dir, previous_dir)
    report.seconds = time.perf_counter() - started
    return report


def _scan(settings: Settings, log: Callable[[str], None]):
    """The corpus's readable documents (the skipped files logged); none at all is an error."""
    scan = scan_corpus(settings.corpus_dir, settings.max_file_mb)
    for message in scan.skipped:
        log(message)
    if not scan.documents:
        raise IndexError_(f"Inga läsbara dokument i {settings.corpus_dir}; det befintliga indexet lämnas orört.")
    return scan


def _unchanged(settings: Settings, previous_dir: Path | None, previous: dict | None, fingerprint: str) -> bool:
    """The live build is this fingerprint's, complete and still opens ("nothing changed" only counts
    then: a damaged build is rebuilt)."""
    return bool(previous and previous.get("fingerprint") == fingerprint and _complete(previous_dir, previous)
                and _opens(settings))


def _start_build(settings: Settings, builds: Path, previous_dir: Path | None) -> tuple[str, Path]:
    """A new build's id and its `.partial` directory (older unfinished builds removed first)."""
    builds.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(settings, keep={previous_dir} if previous_dir else set())
    build_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    build_dir = builds / (build_id + ".partial")
    build_dir.mkdir()
    return build_id, build_dir


def _write_search_files(docs: list[Document], all_chunks: list[Chunk], texts: list[str], build_dir: Path,
                        embedder: Embedder, previous_dir: Path | None, progress: bool) -> tuple[dict, dict]:
    """BM25, the chunks, the table store and the semantic index; returns the table and semantic counts."""
    BM25Index.build([c.id for c in all_chunks], texts).save(build_dir / "bm25")
    _write_chunks(build_dir / "chunks.jsonl", all_chunks)
    table_counts = _build_tables(docs, build_dir / "tables.sqlite3")
    semantic_counts = _build_semantic(all_chunks, build_dir, embedder, previous_dir, progress)
    return table_counts, semantic_counts


def _build_meta(settings: Settings, params: ChunkerParams, fingerprint: str, skipped: list[str],
                docs: list[Document], keys: dict[str, str], chunks_by_file: dict[str, list[Chunk]], *,
                embedding_dim: int, collection: str, table_counts: dict, semantic_counts: dict) -> dict:
    """The build's `meta.json`: how it was built, from what, and what it holds."""
    return {
        "format": INDEX_FORMAT,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "fingerprint": fingerprint,
        "embedding_model": settings.embedding_model,
        "embedding_dim": embedding_dim,
        "chunker": params.as_dict(),
        "builders": builders(),
        "semantic": semantic_counts,
        "vector_store": _store_location(settings),
        "collection": collection,
        "files": {d.file: {"sha256": d.sha256, "key": keys[d.file], "title": d.info.title,
                           "chunks": len(chunks_by_file[d.file])} for d in docs},
        "documents": {d.file: asdict(d.info) for d in docs},
        "skipped": skipped,
        "counts": {"documents": len(docs), "chunks": sum(len(chunks_by_file[d.file]) for d in docs),
                   **table_counts},
    }


def _publish(settings: Settings, final_dir: Path, build_dir: Path, previous_dir: Path | None) -> None:
    """The finished build renamed into place and made live; builds no longer needed removed."""
    build_dir.rename(final_dir)
    _swap_live(settings, final_dir)
    _remove_stale_builds(settings, keep={final_dir} | ({previous_dir} if previous_dir else set()))


_META_KEYS = ("embedding_model", "vector_store", "collection", "documents", "counts")


def _complete(build_dir: Path, meta: dict) -> bool:
    return all((build_dir / name).exists() for name in ("chunks.jsonl", "bm25", "tables.sqlite3")) and meta.get(
        "format") == INDEX_FORMAT and all(key in meta for key in _META_KEYS) and SemanticIndex.exists(build_dir)


def _opens(settings: Settings) -> bool:
    try:
        Index.open(settings)
    except (IndexCorrupt, VectorStoreError):  # a rebuild repairs it, or fails with the server's own message
        return False
    return True


def _chunks_with_reuse(docs, keys, params, previous, previous_dir):
    """Chunks per file; files whose key is unchanged take theirs from the previous build."""
    old_chunks: dict[str, list[Chunk]] = {}
    if previous and previous_dir:
        unchanged = {f for f, v in previous["files"].items() if keys.get(f) == v["key"]}
        if unchanged:
            for chunk in read_chunks(previous_dir / "chunks.jsonl"):
                if chunk.file in unchanged:
                    old_chunks.setdefault(chunk.file, []).append(chunk)
    chunks_by_file = {}
    for doc in docs:
        chunks_by_file[doc.file] = old_chunks.get(doc.file) or chunk_document(doc, params)
    return chunks_by_file, set(old_chunks)


def _previous_vectors(settings, previous, previous_dir, reuse: set[str]):
    if not reuse or not previous:
        return {}
    try:
        store = _open_store(settings, previous_dir, previous["collection"], create=False)
        ids = [c.id for c in read_chunks(previous_dir / "chunks.jsonl") if c.file in reuse]
        return store.embeddings(ids)
    except Exception:  # a damaged previous build only costs us the reuse
        return {}


def _embed(embedder: Embedder, chunks: list[Chunk], texts: list[str], old_vectors, progress: bool):
    import numpy as np
    from tqdm import tqdm

    todo = [i for i, c in enumerate(chunks) if c.id not in old_vectors]
    vectors: list = [old_vectors.get(c.id) for c in chunks]
    batch = 16
    with tqdm(total=len(todo), desc="Bäddar in", unit="del", disable=not progress or not todo) as bar:
        for start in range(0, len(todo), batch):
            idx = todo[start:start + batch]
            for i, v in zip(idx, embedder.embed_passages([texts[i] for i in idx])):
                vectors[i] = v
            bar.update(len(idx))
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, 0), dtype=np.float32)
    return matrix, len(todo), len(chunks) - len(todo)


def _metadata(chunk: Chunk) -> dict:
    meta = {"file": chunk.file, "line_start": chunk.line_start, "line_end": chunk.line_end,
            "section": chunk.section_label, "kind": chunk.kind, "sha256": chunk.sha256}
    if chunk.page_start is not None:
        meta["page"] = chunk.page_start
    return meta


def _build_semantic(chunks: list[Chunk], build_dir: Path, embedder: Embedder, previous_dir: Path | None,
                    progress: bool) -> dict:
    from .chunking import chunk_sentences
    from .semantic import embed_units
    from .tables import TableStore

    store = TableStore.open(build_dir / "tables.sqlite3")
    try:
        units = sentence_units(chunks, chunk_sentences) + row_units(store.table(t.id) for t in store.tables())
    finally:
        store.close()
    reuse = {}
    if previous_dir is not None and SemanticIndex.exists(previous_dir) and _built_with(previous_dir, embedder.name):
        try:
            reuse = SemanticIndex.load(previous_dir).vectors_by_key()
        except (OSError, ValueError):  # a damaged previous build only costs us the reuse
            reuse = {}
    matrix, embedded = embed_units(units, embedder, reuse, progress)
    SemanticIndex(units, matrix).save(build_dir)
    return {"units": len(units), "embedded": embedded, "version": SEMANTIC_VERSION}


def _built_with(build_dir: Path, embedding_model: str) -> bool:
    """Whether that build's vectors are this model's: another model's vectors must not be reused."""
    try:
        meta = json.loads((build_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("embedding_model") == embedding_model


def _build_tables(docs: list[Document], db_path: Path) -> dict:
    from .tables import build_table_store

    return build_table_store(docs, db_path)


def _write_chunks(path: Path, chunks: list[Chunk]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")


def read_chunks(path: Path) -> list[Chunk]:
    chunks = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            data = json.loads(line)
            data["section"] = tuple(data["section"])
            data["lines"] = tuple(data.get("lines", ()))
            chunks.append(Chunk(**data))
    return chunks


def _swap_live(settings: Settings, target: Path) -> None:
    tmp = settings.index_dir / f".live-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(Path("builds") / target.name)
    os.replace(tmp, settings.live_index)  # atomic on POSIX


def _remove_stale_builds(settings: Settings, keep: set[Path]) -> None:
    """Remove unfinished and superseded builds; the live one and its predecessor stay."""
    builds = settings.index_dir / "builds"
    keep = {p.resolve() for p in keep}
    for path in builds.iterdir() if builds.exists() else []:
        if path.resolve() in keep:
            continue
        meta = read_meta(path)
        if settings.chroma_host and meta and meta.get("vector_store") != "embedded":
            try:
                chroma_client(None, settings.chroma_host, settings.chroma_port).delete_collection(meta["collection"])
            except Exception:
                pass
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Index:
    """An opened build: everything retrieval needs, checked against the settings."""

    directory: Path
    meta: dict
    chunks: dict[str, Chunk]
    documents: dict[str, DocumentInfo]
    bm25: BM25Index
    store: VectorStore
    semantic: SemanticIndex | None = None

    @property
    def tables_path(self) -> Path:
        return self.directory / "tables.sqlite3"

    @classmethod
    def open(cls, settings: Settings) -> "Index":
        directory = live_build(settings)
        if directory is None or not directory.exists():
            raise IndexMissing(f"Indexet saknas i {settings.index_dir}. Kör `{REBUILD_COMMAND}` för att bygga det.")
        meta = read_meta(directory)
        if meta is None or not _complete(directory, meta):
            raise IndexCorrupt(f"Indexet i {directory} är skadat eller ofullständigt. Kör `{REBUILD_COMMAND}` för att bygga om det.")
        if meta["embedding_model"] != settings.embedding_model:
            raise IndexMismatch(
                f"Indexet byggdes med inbäddningsmodellen {meta['embedding_model']!r}, men inställningarna anger "
                f"{settings.embedding_model!r}. Kör `{REBUILD_COMMAND}` för att bygga om med den nya modellen."
            )
        if meta["vector_store"] != _store_location(settings):
            raise IndexMismatch(
                f"Indexet byggdes mot vektorlagret {meta['vector_store']!r}, men inställningarna anger "
                f"{_store_location(settings)!r}. Kör `{REBUILD_COMMAND}`."
            )
        if meta.get("builders") != builders():
            raise IndexMismatch(
                f"Indexet byggdes med andra versioner av radrensningen, tabelläsaren, tokeniseraren eller den semantiska "
                f"delen ({meta.get('builders')} mot {builders()}). Kör `{REBUILD_COMMAND}` för att bygga om det.")
        try:
            chunks = {c.id: c for c in read_chunks(directory / "chunks.jsonl")}
            bm25 = BM25Index.load(directory / "bm25")
            semantic = SemanticIndex.load(directory)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"Indexet i {directory} kan inte läsas ({exc}). Kör `{REBUILD_COMMAND}`.") from exc
        # A damaged table database or embedded Chroma would otherwise surface later as a raw
        # sqlite/chromadb traceback; both are checked here and reported with the repair command.
        from .tables import TableStore, TableStoreMissing

        try:
            TableStore.check(directory / "tables.sqlite3")
        except TableStoreMissing as exc:
            raise IndexCorrupt(f"Tabellregistret i {directory} är skadat ({exc.__cause__ or exc}). "
                               f"Kör `{REBUILD_COMMAND}` för att bygga om indexet.") from exc
        try:
            store = _open_store(settings, directory, meta["collection"], create=False)
            store.count()
        except VectorStoreError as exc:
            if settings.chroma_host:
                raise  # an unreachable server is not a damaged index; its message says what to do
            raise IndexCorrupt(f"Vektorlagret (Chroma) i {directory} saknar indexets samling. "
                               f"Kör `{REBUILD_COMMAND}` för att bygga om indexet.") from exc
        except Exception as exc:  # chromadb raises its own error types for a damaged database
            if settings.chroma_host:
                raise
            raise IndexCorrupt(f"Vektorlagret (Chroma) i {directory} är skadat ({type(exc).__name__}: {exc}). "
                               f"Kör `{REBUILD_COMMAND}` för att bygga om indexet.") from exc
        documents = {f: DocumentInfo(**{**d, "aliases": tuple(d.get("aliases", ())),
                                    "current_state": tuple(d.get("current_state", ()))}) for f, d in meta["documents"].items()}
        return cls(directory, meta, chunks, documents, bm25, store, semantic)
