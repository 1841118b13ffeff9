"""The table store: SQLite built by ingest, an exact lookup, the chat tool and the CLI.

`build_table_store(documents, db_path)` writes a new database from scratch (atomically
replacing an old one). `TableStore.open(db_path)` reads it through a read-only connection and
answers `lookup(measure, year, kind, document)` with `CellHit`s, best first.

Matching is Swedish-aware and needs no model: words are lower-cased, stemmed (PyStemmer's
Swedish Snowball, with a small pure-python fallback), a definite "-n" after a vowel is folded
("sjukfrånvaron" ~ "sjukfrånvaro"), abbreviations in parentheses are words of their own
("HME"), and prefixes, compounds and one-letter slips count as partial matches. A whole question
may be passed as the measure: question words are dropped, kind words ("målvärdet", "utfallet")
and document names become hints. Year, kind and document arguments filter strictly.
No query text is ever evaluated or pasted into SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import threading
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from .records import Cell, Document, DocumentInfo, Table
from .tables import extract_tables

SCHEMA_VERSION = "1"
MAX_MEASURE_CHARS = 1000
MISSING_MESSAGE = "Tabellregistret saknas – kör `python -m assistant ingest`"

# A hit at or above this score matches the measure well enough to be given as an answer.
STRONG_MATCH = 0.8
_MIN_SCORE = 0.5

_KIND_ALIASES = {
    "mal": "mål", "mål": "mål", "målet": "mål", "målvärde": "mål", "målvärdet": "mål", "målvärden": "mål",
    "malvarde": "mål", "target": "mål", "goal": "mål",
    "utfall": "utfall", "utfallet": "utfall", "actual": "utfall", "outcome": "utfall",
    "nuläge": "utfall", "nuläget": "utfall",
    "bokslut": "bokslut", "bokslutet": "bokslut",
    "budget": "budget", "budgeten": "budget", "budgeterat": "budget",
    "plan": "plan", "planen": "plan", "planerat": "plan", "planår": "plan",
    "prognos": "prognos", "prognosen": "prognos", "forecast": "prognos",
    "avvikelse": "avvikelse", "avvikelsen": "avvikelse", "avvik": "avvikelse",
}
# words in a measure or question that name the kind of value rather than the measure
_KIND_WORDS = {w: k for w, k in _KIND_ALIASES.items() if w not in ("budgeterat", "planerat", "avvik")}
_KIND_WORDS.update({"budgeteras": "budget", "budgeterad": "budget", "budgeterade": "budget",
                    "budgetår": "budget", "budgetåret": "budget", "planåret": "plan", "planår": "plan",
                    "prognostiseras": "prognos", "målsättning": "mål", "målsättningen": "mål",
                    "target": "mål", "goal": "mål"})
_SHORT_YEAR = re.compile(r"(?:\b(?:år|året|budgetår|budgetåret|planår|planåret|year)\s*)?[-–'’](\d{2})(?!\d)")
# kinds that satisfy a requested kind ("utfall" is also a full-year "bokslut")
_KIND_ACCEPTS = {"utfall": {"utfall", "bokslut"}, "bokslut": {"bokslut", "utfall"}}

# kinds a question asks for strictly: "utfallet" is not answered by a target, nor "målet" by an outcome.
# ("budget" and "plan" also name documents, "Budget 2021", so they do not count here.)
_STRICT_KINDS = {"mål", "utfall", "bokslut", "prognos"}


def requested_kinds(question: str) -> set[str]:
    """The value kinds a question asks for by name, each with the kinds that satisfy it."""
    kinds = {_KIND_WORDS[w] for w in normalize_text(question).split() if w in _KIND_WORDS}
    return {k for kind in kinds & _STRICT_KINDS for k in _KIND_ACCEPTS.get(kind, {kind})}


_STOPWORDS = frozenset(
    """alla allt att av blev bli blir de dem den denna deras dess dessa det detta dig din ditt du där
    då efter ej eller en er era ert ett från för ha hade han hans har henne hennes hon honom hur här i
    icke ingen inom inte jag ju kan kunde man med mellan men mig min mina mitt mot mycket ni nu när
    någon något några och om oss på samma sedan sig sin sina sitt själv skulle som så sådan till under
    upp ut utan vad var vara varför varit varje vars vem vi vid vilka vilken vilket vår våra vårt än
    är åt över ska skall stor stort stora hög högt låg lågt många hur säger sa finns fanns gäller
    värdet värde värden siffran siffra siffrorna uppgår uppgick enligt ange visa vänligen tack
    region regionen regionens kronoberg kronobergs får ha gälla gällande förslag förslaget belopp
    beloppet ca cirka redovisar redovisas anges angivet år året åren
    stämmer överens densamma densamme detsamma jämfört jämför jämförelse skiljer skillnad respektive
    dokumenten ändrats ändrat
    agree agrees compare compared differ differs same documents do does
    the a an of in on for to and or is are what which who how much many was were""".split()
)
# Common words that say little about which measure is meant: they count, but weakly.
_GENERIC = frozenset("""andel antal procent summa totalt total totala mnkr kr tkr miljoner kronor
    per st nivå nivån period perioden jan feb mar mars apr april maj jun juni jul juli aug augusti sep
    september okt oktober nov november dec december januari februari kvartal kvartalet q1 q2 q3 q4
    helår helåret""".split())
# comparator words in a question: a hint that a target ("mål") is meant
_COMPARATOR_WORDS = {"minst": "minst", "lägst": "minst", "max": "max", "högst": "max", "maximalt": "max",
                     "minimum": "minst", "maximum": "max", "least": "minst", "most": "max"}
# words that stand for each other in row labels
_SYNONYMS = {"total": ("summa",), "totalt": ("summa",), "totala": ("summa",), "summa": ("total",)}
# English words of common measures -> the Swedish words used in the documents
_GLOSSARY = {
    "sick": "sjukfrånvaro", "absence": "sjukfrånvaro", "retirement": "pensionsålder",
    "renewable": "förnybara", "fuels": "drivmedel", "fuel": "drivmedel", "solar": "solceller",
    "operating": "driftram", "frame": "driftram", "frames": "driftram", "investment": "investeringar",
    "investments": "investeringar", "invested": "investeringar", "tax": "skatteintäkter",
    "revenue": "intäkter", "revenues": "intäkter", "pharmaceuticals": "läkemedel", "drugs": "läkemedel",
    "medicines": "läkemedel", "cash": "likviditet", "liquidity": "likviditet", "inhabitants": "invånare",
    "residents": "invånare", "doctor": "läkare", "doctors": "läkare", "physician": "läkare",
    "employment": "sysselsättningsgrad", "engagement": "medarbetarengagemang", "trust": "förtroende",
    "confidence": "förtroende", "equity": "soliditet", "solvency": "soliditet", "depreciation": "avskrivningar",
    "punctuality": "punktlighet", "customer": "kund", "satisfaction": "nöjd", "market": "marknadsandel",
    "share": "andel", "transport": "kollektivtrafik", "emissions": "utsläpp", "greenhouse": "växthusgaser",
    "organic": "ekologiska", "food": "livsmedel", "board": "nämnd", "committee": "nämnd",
    "traffic": "trafiknämnd", "culture": "kulturnämnd", "health": "hälso", "waste": "avfall",
    "result": "resultat", "surplus": "resultat", "payment": "ersättning", "staff": "personal",
    "hired": "hyrpersonal", "agency": "hyrpersonal", "readmission": "återinskrivning",
    "continuity": "kontinuitetsindex", "infections": "infektioner", "antibiotic": "antibiotikarecept",
    "antibiotics": "antibiotikarecept", "prescriptions": "recept",
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


# --------------------------------------------------------------------------- normalisation

@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("swedish")
    except Exception:  # pure-python fallback below
        return None


_FALLBACK_SUFFIXES = sorted(
    """heterna hetens anden andes andet arens arnas ernas heten heter ornas ande arna erna orna
    ades aren arne aste erns het ens ern ast ad ar er or as es at en a e s""".split(),
    key=len, reverse=True,
)


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    stemmer = _stemmer()
    if stemmer is not None:
        stem = stemmer.stemWord(word)
    else:
        stem = word
        for suf in _FALLBACK_SUFFIXES:
            if len(word) - len(suf) >= 3 and word.endswith(suf):
                stem = word[: -len(suf)]
                break
    if len(stem) > 6 and stem[-1] == "n" and stem[-2] in "aeiouyåäö":
        stem = stem[:-1]  # "sjukfrånvaron" -> "sjukfrånvaro"
    return stem


def normalize_text(text: str) -> str:
    """Lower case, punctuation out, one space between words ("Sjukfrånvaron (%)" -> "sjukfrånvaron")."""
    return " ".join(w.lower() for w in _WORD.findall(text or ""))


def measure_tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    """Stemmed content words of a text (years dropped; "HME" stays a word)."""
    out = []
    for w in normalize_text(text).split():
        if not keep_stopwords and w in _STOPWORDS:
            continue
        if re.fullmatch(r"(?:19|20)\d\d", w):
            continue
        out.append(_stem(w))
    return out


_ENGLISH_MARKERS = frozenset("the what which how much many does did is are was were of for to in by and "
                             "according should be have has its their".split())
_SWEDISH_MARKERS = frozenset("och är vad hur för av med det som vilken vilket vilka var blev ska enligt "
                             "i på till om har".split())


def _looks_english(words: list[str]) -> bool:
    en = sum(1 for w in words if w in _ENGLISH_MARKERS)
    sv = sum(1 for w in words if w in _SWEDISH_MARKERS or any(ch in w for ch in "åäö"))
    return en > sv


def _edit1(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


@lru_cache(maxsize=400_000)
def _similarity(q: str, t: str) -> float:
    if q == t:
        return 1.0
    if q.isdigit() or t.isdigit():
        return 0.0
    short, long_ = (q, t) if len(q) <= len(t) else (t, q)
    if len(short) >= 4 and long_.startswith(short):
        if len(long_) - len(short) <= 3:
            return 0.9  # an inflection: "sysselsättningsgrad" ~ "sysselsättningsgraden"
        # a compound: the measure asked for is the head of a longer row word ("sjukfrånvaro" in
        # "sjukfrånvaroredovisning") counts more than a row word that is only the head of a
        # longer query word ("vård" for "vårdersättning")
        return 0.75 if short == q else 0.4
    if len(short) >= 6 and _edit1(q, t):
        return 0.8
    if len(q) >= 5 and len(t) > len(q) and q in t:
        return 0.7  # "frånvaro" in "sjukfrånvaro"
    if len(t) >= 5 and len(q) > len(t) + 2 and t in q:
        return 0.6  # a row word inside a compound of the query: "förmån" in "läkemedelsförmån"
    if len(q) >= 6 and len(t) >= 6 and (q[:-1] in t or t[:-1] in q) and min(len(q), len(t)) >= 6:
        return 0.6
    return 0.0


def _best(q: str, tokens: tuple[str, ...]) -> float:
    best = 0.0
    for t in tokens:
        s = _similarity(q, t)
        if s > best:
            best = s
            if s == 1.0:
                break
    return best


def _normalize_kind(kind: str | None) -> str | None:
    if kind is None:
        return None
    if not isinstance(kind, str):
        raise ValueError("Okänd värdetyp – ange mål, utfall, budget, plan, prognos eller avvikelse")
    k = kind.strip().lower()
    if not k:
        return None
    if k in _KIND_ALIASES:
        return _KIND_ALIASES[k]
    raise ValueError(f"Okänd värdetyp {kind[:40]!r} – ange mål, utfall, budget, plan, prognos eller avvikelse")


def _normalize_year(year) -> int | None:
    if year is None or year == "":
        return None
    if isinstance(year, bool):
        raise ValueError("Årtalet måste vara ett heltal, t.ex. 2026")
    if isinstance(year, str):
        if not re.fullmatch(r"\s*\d{4}\s*", year):
            raise ValueError("Årtalet måste vara ett fyrsiffrigt år, t.ex. 2026")
        year = int(year)
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    if not isinstance(year, int) or not 1900 <= year <= 2100:
        raise ValueError("Årtalet måste vara ett år mellan 1900 och 2100")
    return year


# --------------------------------------------------------------------------- build

def _connect_read_only(db_path: Path) -> sqlite3.Connection:
    if not db_path.is_file():
        raise TableStoreMissing(db_path)
    uri = "file:" + str(db_path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        con.close()
        raise TableStoreMissing(db_path) from exc
    return con


@dataclass(frozen=True)
class CellHit:
    cell: Cell
    table: Table
    info: DocumentInfo
    score: float


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


def _context_text(table: Table, cell: Cell) -> str:
    """What besides the row label may match a measure: the table caption and the column."""
    return " ".join([table.caption, cell.column])


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
    n_tables = n_cells = 0
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        fts = _try_fts(con)
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        con.execute("INSERT INTO meta VALUES ('stemmer', ?)", ("snowball" if _stemmer() else "fallback",))
        con.execute("INSERT INTO meta VALUES ('fts', ?)", ("1" if fts else "0",))
        seen_files: set[str] = set()
        for doc in documents:
            info = doc.info
            if info.file in seen_files:
                continue
            seen_files.add(info.file)
            names = " ".join([info.cite, info.title, info.file, info.source_file, " ".join(info.aliases or ())])
            con.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)",
                        (info.file, info.source_file, info.cite, info.title, info.kind, info.kind_label,
                         json.dumps(asdict(info), ensure_ascii=False), " ".join(measure_tokens(names))))
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
                n_tables += 1
                rows = []
                for c in tcells:
                    rows.append((c.table_id, c.file, c.line, c.row, c.column, c.value_text, c.value, c.unit,
                                 c.year, c.column_kind, c.comparator, int(bool(c.uncertain)), c.page,
                                 " ".join(measure_tokens(c.row, keep_stopwords=False)),
                                 " ".join(measure_tokens(_context_text(t, c)))))
                con.executemany(
                    'INSERT INTO cells (table_id, file, line, "row", "column", value_text, value, unit, year,'
                    " column_kind, comparator, uncertain, page, norm_row, norm_context)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                n_cells += len(rows)
        if fts:
            con.execute("INSERT INTO cells_fts(rowid, norm_row, norm_context) SELECT id, norm_row, norm_context FROM cells")
        con.commit()
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, db_path)
    return {"tables": n_tables, "cells": n_cells}


def _try_fts(con: sqlite3.Connection) -> bool:
    try:
        con.execute("CREATE VIRTUAL TABLE cells_fts USING fts5(norm_row, norm_context, content='cells', content_rowid='id')")
        return True
    except sqlite3.OperationalError:
        return False


# --------------------------------------------------------------------------- store

class TableStoreMissing(FileNotFoundError):
    """The store has not been built (or was removed)."""

    def __init__(self, path: Path):
        super().__init__(f"{MISSING_MESSAGE} ({path})")
        self.path = path


@dataclass(frozen=True)
class _Entry:
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


class TableStore:
    """Read-only access to the table store; safe to share between threads."""

    def __init__(self, con: sqlite3.Connection, db_path: Path):
        self._con = con
        self._lock = threading.Lock()
        self.db_path = db_path
        self._load()

    @classmethod
    def open(cls, db_path: Path) -> "TableStore":
        return cls(_connect_read_only(Path(db_path)), Path(db_path))

    @staticmethod
    def check(db_path: Path) -> None:
        """Raise TableStoreMissing unless the store at `db_path` can be read (without loading it)."""
        _connect_read_only(Path(db_path)).close()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # -- loading
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
        built_with = dict(self._query("SELECT key, value FROM meta")).get("stemmer")
        rederive = built_with != ("snowball" if _stemmer() else "fallback")
        if rederive:  # built under another stemmer: derive the match keys again with this one
            self._doc_names = {f: tuple(measure_tokens(" ".join([i.cite, i.title, i.file, i.source_file,
                                                                  " ".join(i.aliases or ())])))
                               for f, i in self.infos.items()}
        self._entries: list[_Entry] = []
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
            self._entries.append(_Entry(cell, row_tokens, ctx_tokens,
                                        tuple(t for t in row_tokens if t not in _GENERIC_STEMS())))

    # -- queries
    def tables(self, document: str | None = None) -> list[Table]:
        files = self._resolve_document(document) if document else None
        return [t for t in self._tables.values() if files is None or t.file in files]

    def table(self, table_id: str) -> tuple[Table, list[Cell]]:
        if not isinstance(table_id, str) or table_id not in self._tables:
            raise KeyError(f"Okänd tabell: {str(table_id)[:80]}")
        return self._tables[table_id], [e.cell for e in self._entries if e.cell.table_id == table_id]

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

    def _resolve_document(self, document: str) -> set[str]:
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
                if q and all(_best(t, names) >= 0.8 for t in q):
                    out.add(file)
        return out

    def lookup(self, measure: str, year: int | None = None, kind: str | None = None,
               document: str | None = None, limit: int = 10) -> list[CellHit]:
        """Cells whose row matches `measure`, best first; `year`, `kind`, `document` filter."""
        if not isinstance(measure, str):
            raise ValueError("Måttet måste anges som text")
        if len(measure) > MAX_MEASURE_CHARS:
            raise ValueError(f"Måttet är för långt (högst {MAX_MEASURE_CHARS} tecken)")
        year = _normalize_year(year)
        kind = _normalize_kind(kind)
        try:
            limit = max(1, min(100, int(limit)))
        except (TypeError, ValueError) as exc:
            raise ValueError("limit måste vara ett heltal") from exc
        files = self._resolve_document(document) if document else None
        if files is not None and not files:
            return []

        words = normalize_text(measure).split()
        english = _looks_english(words)
        year_hint = None
        m = _SHORT_YEAR.search(measure.lower())
        if m and ("år" in m.group(0) or "year" in m.group(0)):
            year_hint = 2000 + int(m.group(1))
        if english:
            translated = [_GLOSSARY[w] for w in words if w in _GLOSSARY]
            words = [w for w in words if w not in _GLOSSARY] + [x for e in translated for x in normalize_text(e).split()]
        kind_hint = None
        comparator_hint = None
        doc_hint: set[str] = set()
        content: list[tuple[str, float]] = []
        for w in words:
            if w in _COMPARATOR_WORDS:
                comparator_hint = _COMPARATOR_WORDS[w]
                kind_hint = kind_hint or "mål"
                continue
            if w in _STOPWORDS or re.fullmatch(r"(?:19|20)\d\d", w):
                continue
            if w in _KIND_WORDS:
                kind_hint = _KIND_WORDS[w] if kind_hint in (None, "mål") and comparator_hint is None else kind_hint
                continue
            stem = _stem(w)
            named = self._document_word(stem)
            if named:
                doc_hint.update(named)
                continue
            if w.isdigit():
                weight = 0.2
            elif w in _GENERIC or stem in _GENERIC_STEMS():
                weight = 0.35
            elif not self._known(stem):
                # in an English question a word no table uses says little about the row meant;
                # in a Swedish one it is part of the measure asked for and must count
                weight = 0.15 if english else 0.8
            else:
                weight = 1.0
            content.append((stem, weight))
        if not content or all(q.isdigit() for q, _ in content):
            return []  # a measure needs a word; bare numbers are not looked up
        total_weight = sum(w for _, w in content)
        hits: list[CellHit] = []
        for e in self._entries:
            c = e.cell
            if files is not None and c.file not in files:
                continue
            if year is not None and not self._year_matches(c, year):
                continue
            if kind is not None and c.column_kind not in _KIND_ACCEPTS.get(kind, {kind}):
                continue
            got = 0.0
            row_hit = False
            all_found = True
            matched_row_tokens: set[str] = set()
            for q, w in content:
                best_row, best_tok = 0.0, None
                for t in e.row_tokens:
                    s = _similarity(q, t)
                    if s < 1.0 and q in _SYN_STEMS() and t in _SYN_STEMS()[q]:
                        s = 0.9
                    if s > best_row:
                        best_row, best_tok = s, t
                if best_row >= 0.7:
                    matched_row_tokens.add(best_tok)
                    if w >= 1.0:
                        row_hit = True
                best_ctx = _best(q, e.ctx_tokens)
                if best_row < 0.7 and best_ctx < 0.7 and w >= 0.35:
                    all_found = False
                got += w * max(best_row, 0.6 * best_ctx)
            coverage = got / total_weight
            # the measure must be in the row label, or every word of it in the row, caption or column
            hinted = bool((kind_hint and c.column_kind in _KIND_ACCEPTS.get(kind_hint, {kind_hint}))
                          or (comparator_hint and c.comparator == comparator_hint)
                          or (year_hint and c.year == year_hint))
            # a weaker match is considered only when the question's hints point at this cell
            if coverage < (0.35 if hinted else _MIN_SCORE) or not (row_hit or (coverage >= 0.55 and all_found)):
                continue
            # how much of the row label the measure accounts for (generic words weigh half)
            row_weight = sum(1.0 if t in e.row_content else 0.5 for t in e.row_tokens)
            precision = (sum(1.0 if t in e.row_content else 0.5 for t in e.row_tokens if t in matched_row_tokens)
                         / row_weight) if row_weight else 0.0
            score = coverage + 0.25 * precision
            if kind_hint and c.column_kind in _KIND_ACCEPTS.get(kind_hint, {kind_hint}):
                score += 0.1
            if comparator_hint and c.comparator == comparator_hint:
                score += 0.05
            if year_hint and year is None and c.year == year_hint:
                score += 0.15
            if doc_hint and c.file in doc_hint:
                score += 0.1
            if c.value is None:
                score -= 0.15  # text cells (e.g. "Ansvarig nämnd") and indicator names come after numbers
            if c.uncertain:
                score -= 0.05
            if score < _MIN_SCORE:
                continue
            hits.append(CellHit(cell=c, table=self._tables[c.table_id], info=self.infos.get(c.file) or _unknown_info(c.file),
                                score=round(score, 4)))
        hits.sort(key=lambda h: (-h.score, h.cell.uncertain, h.cell.file, h.cell.line))
        return hits[:limit]

    def _known(self, stem: str) -> bool:
        """Is the word (nearly) one that some row, caption or column uses?"""
        cache = self.__dict__.setdefault("_known_cache", {})
        if stem not in cache:
            vocab = self.__dict__.get("_vocab")
            if vocab is None:
                vocab = set()
                for e in self._entries:
                    vocab.update(e.row_tokens)
                    vocab.update(e.ctx_tokens)
                self._vocab = vocab
            cache[stem] = stem in vocab or any(_similarity(stem, t) >= 0.7 for t in vocab)
        return cache[stem]

    def _document_word(self, stem: str) -> set[str]:
        """Files named by a word ("hållbarhetsprogrammet") that is no row's word; else empty."""
        cache = self.__dict__.setdefault("_docword_cache", {})
        if stem not in cache:
            named: set[str] = set()
            if len(stem) >= 5:
                named = {f for f, names in self._doc_names.items() if _best(stem, names) >= 0.9}
                if named and any(_best(stem, e.row_tokens) >= 0.9 for e in self._entries):
                    named = set()
            cache[stem] = named
        return cache[stem]

    @staticmethod
    def _year_matches(c: Cell, year: int) -> bool:
        if c.year == year:
            return True
        return c.year is None and (str(year) in c.column or bool(re.search(rf"(?<!\d){year}(?!\d)", c.row)))


@lru_cache(maxsize=1)
def _SYN_STEMS() -> dict[str, frozenset[str]]:
    return {_stem(k): frozenset(_stem(v) for v in vs) for k, vs in _SYNONYMS.items()}


@lru_cache(maxsize=1)
def _GENERIC_STEMS() -> frozenset[str]:
    return frozenset(_stem(w) for w in _GENERIC)


def _unknown_info(file: str) -> DocumentInfo:
    return DocumentInfo(file=file, source_file=file, cite=file, title=file, kind="document",
                        kind_label="dokument utan uppgifter i korpusmanifestet", in_manifest=False)


# --------------------------------------------------------------------------- presentation

def format_value(cell: Cell) -> str:
    """The value as printed plus a unit when the printed text lacks it ("4 442" + " mnkr")."""
    text = cell.value_text or "–"
    if cell.unit and cell.unit not in text.replace("procent", "%"):
        text = f"{text} {cell.unit}"
    return text


def format_hit(n: int, hit: CellHit) -> str:
    c = hit.cell
    value = format_value(c)
    if c.comparator and not c.value_text.lower().startswith(("över", "under", "minst", "max", "högst", ">", "<")):
        value = f"{c.comparator} {value}"
    parts = [f"{n}. {value}"]
    if c.value is None and c.value_text == "":
        parts[0] = f"{n}. (indikator utan värde)"
    parts.append(f"rad: {c.row}")
    parts.append(f"kolumn: {c.column}")
    parts.append(f"tabell: {hit.table.caption} [{hit.table.id}]")
    parts.append(f"källa: {hit.info.cite} – {hit.info.kind_label}, {c.file} rad {c.line}")
    line = " | ".join(parts)
    if c.uncertain:
        line += " | OSÄKER: kolumnen kunde inte fastställas säkert ur texten – ange inte värdet som säkert"
    return line


def format_hits(hits: list[CellHit], measure: str) -> str:
    if not hits:
        return f"Inga tabellvärden hittades för ”{measure[:80]}”."
    return "\n".join(format_hit(n, h) for n, h in enumerate(hits, start=1))


# --------------------------------------------------------------------------- chat tool

_TOOL_DESCRIPTION = (
    "Slår upp exakta tal i tabeller och numeriska mål i Region Kronobergs styrdokument "
    "(budgetar, budgetförslag, hållbarhetsprogram, delårsrapport, utvecklingsstrategi). "
    "Använd verktyget för frågor om målvärden, utfall, budget, plan, prognos, driftramar, "
    "resultat och investeringar. Parametrar: measure = måttet med egna ord (t.ex. "
    "\"sjukfrånvaro\", \"driftram trafiknämnd\", \"HME\"); year = år (t.ex. 2028), valfritt; "
    "kind = mål, utfall, budget, plan eller prognos, valfritt; document = dokumentets namn "
    "eller filnamn, valfritt. Svaret listar värde, enhet, rad, kolumn, tabell, dokument och rad i "
    "källfilen. Värden märkta OSÄKER får inte anges som säkra."
)


def lookup_tool(store: TableStore):
    """The lookup as a llama-index FunctionTool named "tabell_uppslag"."""
    from llama_index.core.tools import FunctionTool

    def tabell_uppslag(measure: str, year: int | None = None, kind: str | None = None,
                       document: str | None = None) -> str:
        """Slå upp tabellvärden för ett mått (valfritt år, värdetyp och dokument)."""
        try:
            hits = store.lookup(measure, year=year, kind=kind, document=document, limit=8)
        except ValueError as exc:
            return f"Ogiltig fråga till tabellregistret: {exc}"
        return format_hits(hits, measure)

    return FunctionTool.from_defaults(fn=tabell_uppslag, name="tabell_uppslag", description=_TOOL_DESCRIPTION)


# --------------------------------------------------------------------------- CLI

class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # no sys.exit from inside the app
        raise _ArgError(message)


def _cli_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m assistant tables", description="Tabellregistret: tabeller och tal ur dokumenten.")
    sub = p.add_subparsers(dest="cmd")
    ls = sub.add_parser("list", help="lista tabellerna")
    ls.add_argument("--document", "-d")
    sh = sub.add_parser("show", help="visa en tabell")
    sh.add_argument("table_id")
    fd = sub.add_parser("find", help="sök ett mått")
    fd.add_argument("text", nargs="+")
    fd.add_argument("--year", "-y")
    fd.add_argument("--kind", "-k")
    fd.add_argument("--document", "-d")
    fd.add_argument("--limit", "-n", type=int, default=10)
    ex = sub.add_parser("export", help="alla celler som JSON-rader")
    ex.add_argument("--out", "-o")
    return p


def tables_command(argv: list[str], db_path: Path, out=None, err=None) -> int:
    """`python -m assistant tables list|show|find|export`; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _cli_parser()
    try:
        args = parser.parse_args(list(argv))
    except _ArgError as exc:
        print(f"Fel: {exc}", file=err)
        print(parser.format_usage().strip(), file=err)
        return 2
    if not args.cmd:
        print(parser.format_help().strip(), file=err)
        return 2
    try:
        store = TableStore.open(Path(db_path))
    except TableStoreMissing:
        print(MISSING_MESSAGE, file=err)
        return 2
    try:
        if args.cmd == "list":
            return _cli_list(store, args.document, out, err)
        if args.cmd == "show":
            return _cli_show(store, args.table_id, out, err)
        if args.cmd == "find":
            return _cli_find(store, args, out, err)
        return _cli_export(store, args.out, out, err)
    except ValueError as exc:
        print(f"Fel: {exc}", file=err)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        if out is sys.stdout:
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
        return 0
    finally:
        store.close()


def _cli_list(store: TableStore, document, out, err) -> int:
    tables = store.tables(document)
    if document and not tables:
        print(f"Inga tabeller för dokumentet ”{document}”.", file=err)
        return 1
    counts: dict[str, int] = {}
    for e in store._entries:
        counts[e.cell.table_id] = counts.get(e.cell.table_id, 0) + 1
    current = None
    for t in tables:
        if t.file != current:
            current = t.file
            info = store.infos.get(t.file)
            print(f"\n{info.cite if info else t.file} ({t.file})", file=out)
        print(f"  {t.id:<48} rad {t.line_start}–{t.line_end:<5} {counts.get(t.id, 0):>4} celler  "
              f"[{t.layout}] {t.caption[:70]}", file=out)
    print(f"\n{len(tables)} tabeller, {sum(counts.get(t.id, 0) for t in tables)} celler.", file=out)
    return 0


def _cli_show(store: TableStore, table_id: str, out, err) -> int:
    try:
        table, cells = store.table(table_id)
    except KeyError:
        print(f"Okänd tabell: {table_id} – se `python -m assistant tables list`", file=err)
        return 1
    info = store.infos.get(table.file)
    print(f"{table.id}: {table.caption}", file=out)
    print(f"Dokument: {info.cite if info else table.file} – {info.kind_label if info else ''}", file=out)
    print(f"Fil: {table.file} ({info.source_file if info else ''}), rad {table.line_start}–{table.line_end}",
          file=out)
    if table.section:
        print(f"Avsnitt: {' > '.join(table.section)}", file=out)
    if table.unit:
        print(f"Enhet: {table.unit}", file=out)
    columns = list(dict.fromkeys(list(table.columns) + [c.column for c in cells]))
    rows: dict[tuple[int, str], dict[str, Cell]] = {}
    for c in cells:
        rows.setdefault((c.line, c.row), {})[c.column] = c
    width = min(60, max([len("Rad")] + [len(r) for _, r in rows]))
    print("", file=out)
    print(f"{'Rad':<{width}} | " + " | ".join(columns), file=out)
    for (line, row), by_col in sorted(rows.items()):
        vals = []
        for col in columns:
            c = by_col.get(col)
            vals.append("" if c is None else (c.value_text or "·") + (" (?)" if c.uncertain else ""))
        label = row if len(row) <= width else row[: width - 1] + "…"
        print(f"{label:<{width}} | " + " | ".join(vals) + f"   [rad {line}]", file=out)
    if any(c.uncertain for c in cells):
        print("\n(?) = osäker kolumn: en tom cell föll bort i textutdraget.", file=out)
    return 0


def _cli_find(store: TableStore, args, out, err) -> int:
    text = " ".join(args.text)
    hits = store.lookup(text, year=args.year, kind=args.kind, document=args.document, limit=args.limit)
    if not hits:
        print(f"Inga tabellvärden hittades för ”{text}”.", file=out)
        return 1
    print(format_hits(hits, text), file=out)
    return 0


def _cli_export(store: TableStore, path, out, err) -> int:
    n = 0
    if path:
        target = Path(path)
        with target.open("w", encoding="utf-8") as fh:
            for row in store.export_rows():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        print(f"{n} celler skrivna till {target}", file=err)
    else:
        for row in store.export_rows():
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return 0
