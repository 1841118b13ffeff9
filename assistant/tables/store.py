"""The table store: the SQLite database ingest builds from every document's tables, and read access.

`build_table_store(documents, db_path)` writes a new database from scratch (atomically replacing an
old one). `StoredTables.open(db_path)` reads it through a read-only connection; a store written with
another `SCHEMA_VERSION` is refused (`TableStoreOutdated`), which makes the next ingest rebuild it.
The lookup over the stored cells is `matcher.TableStore`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterator

from ..lexical import stemmer_name
from ..records import Cell, Document, DocumentInfo, Table
from .extract import extract_tables
from .similarity import SLIP, best
from .vocabulary import generic_stems, measure_tokens

# Bump when the schema or the stored match keys change; a store with another version is rebuilt.
SCHEMA_VERSION = "1"
MISSING_MESSAGE = "Tabellregistret saknas – kör `python -m assistant ingest`"
# A document reference matches a document name when every word of it is at least this alike.
DOCUMENT_WORD_MATCH = SLIP

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    file TEXT PRIMARY KEY, source_file TEXT NOT NULL, cite TEXT NOT NULL, title TEXT NOT NULL,
    kind TEXT NOT NULL, kind_label TEXT NOT NULL, info_json TEXT NOT NULL, norm_names TEXT NOT NULL);
CREATE TABLE tables (
    id TEXT PRIMARY KEY, file TEXT NOT NULL REFERENCES documents(file), caption TEXT NOT NULL,
    section_json TEXT NOT NULL, unit TEXT NOT NULL, line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL, columns_json TEXT NOT NULL, layout TEXT NOT NULL,
    n_cells INTEGER NOT NULL);
CREATE TABLE cells (
    id INTEGER PRIMARY KEY, table_id TEXT NOT NULL REFERENCES tables(id), file TEXT NOT NULL,
    line INTEGER NOT NULL, "row" TEXT NOT NULL, "column" TEXT NOT NULL, value_text TEXT NOT NULL,
    value REAL, unit TEXT NOT NULL, year INTEGER, column_kind TEXT NOT NULL, comparator TEXT NOT NULL,
    uncertain INTEGER NOT NULL, page INTEGER,
    norm_row TEXT NOT NULL,      -- stemmed words of the row label (the fuzzy-lookup key)
    norm_context TEXT NOT NULL   -- stemmed words of the caption and the column
);
CREATE INDEX cells_table ON cells(table_id);
CREATE INDEX cells_file ON cells(file, line);
CREATE INDEX cells_year ON cells(year);
"""


class TableStoreMissing(FileNotFoundError):
    """The store has not been built (or was removed, or cannot be read)."""

    def __init__(self, path: Path, message: str = MISSING_MESSAGE):
        super().__init__(f"{message} ({path})")
        self.path = path


class TableStoreOutdated(TableStoreMissing):
    """The store was built with another schema version: the next ingest rebuilds it."""

    def __init__(self, path: Path, found: str | None):
        super().__init__(path, f"Tabellregistret har schemaversion {found!r}, programmet läser {SCHEMA_VERSION!r}"
                               " – kör `python -m assistant ingest` för att bygga om det")
        self.found = found


def _connect_read_only(db_path: Path) -> sqlite3.Connection:
    if not db_path.is_file():
        raise TableStoreMissing(db_path)
    uri = "file:" + str(db_path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        con.close()
        raise TableStoreMissing(db_path) from exc
    if row is None or row[0] != SCHEMA_VERSION:
        con.close()
        raise TableStoreOutdated(db_path, row[0] if row else None)
    return con


def _context_text(table: Table, cell: Cell) -> str:
    """What besides the row label may match a measure: the table caption and the column."""
    return " ".join([table.caption, cell.column])


def _names_text(info: DocumentInfo) -> str:
    """Everything a document is called: what a document reference is matched against."""
    return " ".join([info.cite, info.title, info.file, info.source_file, " ".join(info.aliases or ())])


# --------------------------------------------------------------------------- build

def build_table_store(documents: list[Document], db_path: Path) -> dict:
    """Extract every table of `documents` and write a new SQLite store at `db_path`.

    The file is written next to its destination and moved into place, so a reader never sees
    a half-written store. Returns {"tables": n, "cells": n}.
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    if tmp.exists():
        tmp.unlink()
    counts = {"tables": 0, "cells": 0}
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        fts = _try_fts(con)
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        con.execute("INSERT INTO meta VALUES ('stemmer', ?)", (stemmer_name(),))
        con.execute("INSERT INTO meta VALUES ('fts', ?)", ("1" if fts else "0",))
        seen_files: set[str] = set()
        for doc in documents:
            if doc.info.file in seen_files:
                continue
            seen_files.add(doc.info.file)
            _insert_document(con, doc, counts)
        if fts:
            con.execute("INSERT INTO cells_fts(rowid, norm_row, norm_context) SELECT id, norm_row, norm_context FROM cells")
        con.commit()
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, db_path)
    return counts


def _insert_document(con: sqlite3.Connection, doc: Document, counts: dict) -> None:
    info = doc.info
    con.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)",
                (info.file, info.source_file, info.cite, info.title, info.kind, info.kind_label,
                 json.dumps(asdict(info), ensure_ascii=False), " ".join(measure_tokens(_names_text(info)))))
    tables, cells = extract_tables(doc)
    by_table: dict[str, list[Cell]] = {}
    for c in cells:
        by_table.setdefault(c.table_id, []).append(c)
    for t in tables:
        tcells = by_table.get(t.id, [])
        con.execute("INSERT INTO tables VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (t.id, t.file, t.caption, json.dumps(list(t.section), ensure_ascii=False), t.unit,
                     t.line_start, t.line_end, json.dumps(list(t.columns), ensure_ascii=False),
                     t.layout, len(tcells)))
        counts["tables"] += 1
        rows = [(c.table_id, c.file, c.line, c.row, c.column, c.value_text, c.value, c.unit,
                 c.year, c.column_kind, c.comparator, int(bool(c.uncertain)), c.page,
                 " ".join(measure_tokens(c.row, keep_stopwords=False)),
                 " ".join(measure_tokens(_context_text(t, c)))) for c in tcells]
        con.executemany(
            'INSERT INTO cells (table_id, file, line, "row", "column", value_text, value, unit, year,'
            " column_kind, comparator, uncertain, page, norm_row, norm_context)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        counts["cells"] += len(rows)


def _try_fts(con: sqlite3.Connection) -> bool:
    try:
        con.execute("CREATE VIRTUAL TABLE cells_fts USING fts5(norm_row, norm_context, content='cells', content_rowid='id')")
        return True
    except sqlite3.OperationalError:
        return False


# --------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class Entry:
    """A stored cell with its match keys."""

    cell: Cell
    row_tokens: tuple[str, ...]
    ctx_tokens: tuple[str, ...]
    row_content: tuple[str, ...]  # row tokens that are not generic


def _info_from_json(text: str) -> DocumentInfo:
    data = json.loads(text)
    known = {f.name: f for f in fields(DocumentInfo)}
    kwargs = {}
    for k, v in data.items():
        if k in known:
            kwargs[k] = tuple(v) if isinstance(v, list) else v
    return DocumentInfo(**kwargs)


def unknown_info(file: str) -> DocumentInfo:
    return DocumentInfo(file=file, source_file=file, cite=file, title=file, kind="document",
                        kind_label="dokument utan uppgifter i korpusmanifestet", in_manifest=False)


class StoredTables:
    """Read-only access to the stored tables and cells; safe to share between threads."""

    def __init__(self, con: sqlite3.Connection, db_path: Path):
        self._con = con
        self._lock = threading.Lock()
        self.db_path = db_path
        self._load()

    @classmethod
    def open(cls, db_path: Path):
        return cls(_connect_read_only(Path(db_path)), Path(db_path))

    @staticmethod
    def check(db_path: Path) -> None:
        """Raise TableStoreMissing unless the store at `db_path` can be read (without loading it)."""
        _connect_read_only(Path(db_path)).close()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    def _load(self) -> None:
        self.infos: dict[str, DocumentInfo] = {}
        self._doc_names: dict[str, tuple[str, ...]] = {}
        for file, info_json, norm_names in self._query("SELECT file, info_json, norm_names FROM documents"):
            self.infos[file] = _info_from_json(info_json)
            self._doc_names[file] = tuple(norm_names.split())
        self._tables: dict[str, Table] = {}
        for row in self._query("SELECT id, file, caption, section_json, unit, line_start, line_end,"
                               " columns_json, layout FROM tables ORDER BY file, line_start"):
            self._tables[row[0]] = Table(id=row[0], file=row[1], caption=row[2], section=tuple(json.loads(row[3])),
                                         unit=row[4], line_start=row[5], line_end=row[6],
                                         columns=tuple(json.loads(row[7])), layout=row[8])
        # built under another stemmer: derive the match keys again with this one
        rederive = dict(self._query("SELECT key, value FROM meta")).get("stemmer") != stemmer_name()
        if rederive:
            self._doc_names = {f: tuple(measure_tokens(_names_text(i))) for f, i in self.infos.items()}
        self._entries: list[Entry] = []
        for r in self._query('SELECT table_id, file, line, "row", "column", value_text, value, unit, year,'
                             " column_kind, comparator, uncertain, page, norm_row, norm_context"
                             " FROM cells ORDER BY id"):
            cell = Cell(table_id=r[0], file=r[1], line=r[2], row=r[3], column=r[4], value_text=r[5], value=r[6],
                        unit=r[7], year=r[8], column_kind=r[9], comparator=r[10], uncertain=bool(r[11]), page=r[12])
            if rederive:
                row_tokens = tuple(measure_tokens(cell.row))
                ctx_tokens = tuple(measure_tokens(_context_text(self._tables[cell.table_id], cell)))
            else:
                row_tokens, ctx_tokens = tuple(r[13].split()), tuple(r[14].split())
            self._entries.append(Entry(cell, row_tokens, ctx_tokens,
                                       tuple(t for t in row_tokens if t not in generic_stems())))

    # -- queries
    def tables(self, document: str | None = None) -> list[Table]:
        files = self.resolve_document(document) if document else None
        return [t for t in self._tables.values() if files is None or t.file in files]

    def table(self, table_id: str) -> tuple[Table, list[Cell]]:
        if not isinstance(table_id, str) or table_id not in self._tables:
            raise KeyError(f"Okänd tabell: {str(table_id)[:80]}")
        return self._tables[table_id], [e.cell for e in self._entries if e.cell.table_id == table_id]

    def cell_counts(self) -> dict[str, int]:
        """Number of cells per table id."""
        counts: dict[str, int] = {}
        for e in self._entries:
            counts[e.cell.table_id] = counts.get(e.cell.table_id, 0) + 1
        return counts

    def export_rows(self) -> Iterator[dict]:
        for e in sorted(self._entries, key=lambda e: (e.cell.file, e.cell.line, e.cell.table_id)):
            c = e.cell
            info = self.infos.get(c.file)
            table = self._tables[c.table_id]
            yield {
                "file": c.file,
                "source_file": info.source_file if info else c.file,
                "line": c.line,
                "page": c.page,
                "table": c.table_id,
                "caption": table.caption,
                "row": c.row,
                "column": c.column,
                "value_text": c.value_text,
                "value": c.value,
                "unit": c.unit,
                "year": c.year,
                "column_kind": c.column_kind,
                "comparator": c.comparator,
                "uncertain": c.uncertain,
                "cite": info.cite if info else "",
            }

    def resolve_document(self, document: str) -> set[str]:
        """Files matching a document reference: file name, original name, cite, kind or alias."""
        if not isinstance(document, str):
            raise ValueError("Dokument måste anges som text")
        ref = document.strip().lower()
        if not ref:
            return set(self.infos)
        if len(ref) > 300:
            raise ValueError("Dokumentnamnet är för långt")
        out = set()
        for file, info in self.infos.items():
            names = [info.file, info.source_file, Path(info.file).stem, info.cite, info.title, info.kind,
                     *(info.aliases or ())]
            if any(ref == n.lower() or (len(ref) >= 4 and ref in n.lower()) for n in names if n):
                out.add(file)
        if not out:  # fuzzy: the words of the reference against the document names
            q = measure_tokens(ref)
            for file, names in self._doc_names.items():
                if q and all(best(t, names) >= DOCUMENT_WORD_MATCH for t in q):
                    out.add(file)
        return out

    @staticmethod
    def _year_matches(c: Cell, year: int) -> bool:  # chat.py uses it too
        """Is the cell about `year`: its column's year, or with no year the year in its column or row?"""
        if c.year == year:
            return True
        return c.year is None and (str(year) in c.column or bool(re.search(rf"(?<!\d){year}(?!\d)", c.row)))
