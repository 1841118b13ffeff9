"""Meaning: a vector for every sentence and every table row, built with the index.

A user who writes "personalens sjukdagar" where a table row says "Sjukfrånvaro %" shares no word
with it; the embedding model still places the two close. So besides the passages (Chroma) the
index keeps one vector per sentence of running text and one per table row (its label with the
table's caption), and a question is matched to them by cosine similarity. The matrix is small
(a few thousand rows of 384 floats), so a search is one matrix product in memory.

    units, matrix = build_units(chunks, table_store, embedder)   # at ingest
    semantic = SemanticIndex.load(build_dir)                     # when the index opens
    semantic.search(query_vector, "row", files, k=8)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .lexical import URL
from .records import Chunk

# Bump when what is embedded changes (the sentence splitter, the row text, a sentence's views): the
# index rebuilds.
SEMANTIC_VERSION = 3
UNITS_FILE = "semantic.jsonl"
VECTORS_FILE = "semantic.npy"
SENTENCE, ROW = "sentence", "row"
# A "sentence" with fewer letters than this is a run of table numbers or a heading fragment: its
# meaning is in the table store's row vectors, not in its own.
MIN_LETTERS = 12


@dataclass(frozen=True)
class Unit:
    """One embedded piece of a document, with the lines it comes from."""

    kind: str  # sentence | row
    file: str
    line_start: int
    line_end: int
    text: str  # the sentence, or "row label – caption"
    chunk_id: str = ""
    table_id: str = ""
    row: str = ""
    views: tuple[str, ...] = ()  # the sentence read in its place (see sentence_views), embedded with it

    @property
    def key(self) -> str:
        return text_key(self.kind, "\n".join((self.text, *self.views)))


def text_key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\n{text}".encode()).hexdigest()


def sentence_units(chunks: Iterable[Chunk], split: Callable[[Chunk], list[tuple[str, int, int]]]) -> list[Unit]:
    units, seen = [], set()
    for chunk in chunks:
        before = ""
        for text, first, last in split(chunk):
            # a reference list of web addresses means nothing to the model: the words around it do
            if sum(c.isalpha() for c in URL.sub("", text)) < MIN_LETTERS or (chunk.file, first, text) in seen:
                continue
            seen.add((chunk.file, first, text))
            clean = " ".join(URL.sub(" ", text).split())
            units.append(Unit(SENTENCE, chunk.file, first, last, clean, chunk_id=chunk.id,
                              views=sentence_views(clean, chunk.section_label, before)))
            before = clean
    return units


def sentence_views(sentence: str, heading: str, before: str) -> tuple[str, str]:
    """A sentence as it reads in its document: under its heading, and after the sentence before it.
    "Målvärdet är max 4,5 procent." says what it is about only under "Medarbetare > Sjukfrånvaro".
    A sentence's vector is the mean of its own and these two (so a cosine with it is the mean of the
    three cosines): on the 214 dev questions and their 428 rewrites the gold sentence was among the
    5 nearest of all sentences for 71.5 % and 56.7 % with the sentence's own vector, 76.7 % and
    63.4 % with the mean (measured 2026-12-01 by ranking every sentence for each question); the normalised sum
    ranked worse (72.1 %, 51.7 %), heading and document title together no better than the heading."""
    return (f"{heading}: {sentence}" if heading else sentence, f"{before} {sentence}".strip())


def row_text(row: str, caption: str) -> str:
    """What a row means: its label (a sub-row keeps its parent: "Intäkter > Skatteintäkter") and
    the table's caption, which often names the measure's area ("Medarbetare", "Driftsramar")."""
    label = row.replace(" > ", ", ")
    return f"{label} – {caption}" if caption and caption.lower() not in label.lower() else label


def row_units(tables) -> list[Unit]:
    """One unit per distinct row label of each table (`tables`: (Table, cells) pairs)."""
    units = []
    for table, cells in tables:
        first_line: dict[str, tuple[int, int]] = {}
        for cell in cells:
            lo, hi = first_line.get(cell.row, (cell.line, cell.line))
            first_line[cell.row] = (min(lo, cell.line), max(hi, cell.line))
        for row, (lo, hi) in first_line.items():
            units.append(Unit(ROW, table.file, lo, hi, row_text(row, table.caption), table_id=table.id, row=row))
    return units


def embed_units(units: list[Unit], embedder, reuse: dict[str, np.ndarray], progress: bool = True,
                batch: int = 32) -> tuple[np.ndarray, int]:
    """Vectors for the units, taking unchanged ones from `reuse` (by kind, text and views). A unit
    with views gets the mean of its texts' unit vectors: its cosine with a query is their mean cosine."""
    from tqdm import tqdm

    vectors: list = [reuse.get(u.key) for u in units]
    todo = [i for i, v in enumerate(vectors) if v is None]
    with tqdm(total=len(todo), desc="Bäddar in meningar och tabellrader", unit="st",
              disable=not progress or not todo) as bar:
        for start in range(0, len(todo), batch):
            idx = todo[start:start + batch]
            texts = [units[i].text for i in idx]
            texts += [view for i in idx for view in units[i].views]
            embedded = normalised(np.asarray(embedder.embed_passages(texts), dtype=np.float32))
            own, views = embedded[:len(idx)], iter(embedded[len(idx):])
            for i, v in zip(idx, own):
                vectors[i] = np.mean([v] + [next(views) for _ in units[i].views], axis=0)
            bar.update(len(idx))
    if not units:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.vstack(vectors).astype(np.float32), len(todo)


def normalised(matrix: np.ndarray) -> np.ndarray:
    """The rows scaled to unit length (a zero row stays zero), so that a dot product is a cosine."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _unit(fields: dict) -> Unit:
    return Unit(**{**fields, "views": tuple(fields.get("views") or ())})


class SemanticIndex:
    """The units and their (unit-length) vectors; searched by cosine similarity."""

    def __init__(self, units: list[Unit], matrix: np.ndarray) -> None:
        self.units = units
        self.matrix = matrix
        self._by_kind = {kind: np.array([i for i, u in enumerate(units) if u.kind == kind], dtype=np.int64)
                         for kind in (SENTENCE, ROW)}
        self._places: dict[tuple, int] = {}  # (kind, text) and (kind, file, first line) -> unit
        for i, u in enumerate(units):
            self._places.setdefault((u.kind, u.file, u.line_start), i)
            self._places.setdefault((u.kind, u.text), i)

    def save(self, directory: Path) -> None:
        with (directory / UNITS_FILE).open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(asdict(u), ensure_ascii=False) + "\n" for u in self.units)
        np.save(directory / VECTORS_FILE, self.matrix)

    @classmethod
    def load(cls, directory: Path) -> "SemanticIndex":
        with (directory / UNITS_FILE).open(encoding="utf-8") as fh:
            units = [_unit(json.loads(line)) for line in fh if line.strip()]
        matrix = np.load(directory / VECTORS_FILE)
        if len(units) != len(matrix):
            raise ValueError(f"{len(units)} enheter men {len(matrix)} vektorer")
        return cls(units, matrix)

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / UNITS_FILE).is_file() and (directory / VECTORS_FILE).is_file()

    def vectors_by_key(self) -> dict[str, np.ndarray]:
        return {u.key: self.matrix[i] for i, u in enumerate(self.units)}

    def search(self, query_vector: np.ndarray, kind: str, files: Iterable[str] | None = None,
               k: int = 10) -> list[tuple[Unit, float]]:
        idx = self._by_kind.get(kind)
        if idx is None or not len(idx):
            return []
        if files:
            wanted = set(files)
            idx = np.array([i for i in idx if self.units[i].file in wanted], dtype=np.int64)
            if not len(idx):
                return []
        q = query_vector / (np.linalg.norm(query_vector) or 1.0)
        scores = self.matrix[idx] @ q.astype(np.float32)
        top = np.argsort(-scores)[:k]
        return [(self.units[idx[j]], float(scores[j])) for j in top]

    def similarity(self, query_vector: np.ndarray, kind: str, file: str, line: int, text: str = "") -> float | None:
        """The cosine of the unit at this place (or with this text), if the index has one."""
        i = self._places.get((kind, text)) if text else None
        if i is None:
            i = self._places.get((kind, file, line))
        if i is None:
            return None
        q = query_vector / (np.linalg.norm(query_vector) or 1.0)
        return float(self.matrix[i] @ q.astype(np.float32))
