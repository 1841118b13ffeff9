"""The lookup: which stored cells a measure ("sjukfrånvaro", or a whole question) asks for, best first.

Matching is Swedish-aware and needs no model: words are lower-cased and stemmed like the passages
(`assistant.lexical`), abbreviations in parentheses are words of their own ("HME"), and prefixes,
compounds and one-letter slips count as partial matches (`similarity`). A whole question may be passed
as the measure: question words are dropped, kind words ("målvärdet", "utfallet") and document names
become hints. Year, kind and document arguments filter strictly. No query text is ever evaluated or
pasted into SQL.

A cell's score is the weighted share of the measure's words found in its row label (or, weaker, in
its caption and column), plus a little for how much of the row label they account for, plus bonuses
for the hints the question gives and minus a little for text cells and uncertain cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..records import Cell, DocumentInfo, Table
from .similarity import INFLECTION, QUERY_INSIDE, SAME, similarity
from .similarity import best as best_similarity
from .store import Entry, StoredTables, unknown_info
from .vocabulary import (COMPARATOR_WORDS, GENERIC, GLOSSARY, KIND_ALIASES, KIND_WORDS, SHORT_YEAR, STOPWORDS,
                         YEAR_WORD, generic_stems, kinds_accepted, looks_english, normalize_text, stem,
                         synonym_stems)

MAX_MEASURE_CHARS = 1000

# A hit at or above this score matches the measure well enough to be given as an answer.
STRONG_MATCH = 0.8
# Below this a cell is not a hit at all (and its coverage must reach it unless a hint points at it).
MIN_SCORE = 0.5
# The coverage a cell needs when the question's year, kind or comparator points at it.
MIN_COVERAGE_HINTED = 0.35
# The coverage a cell needs when no full-weight word is in its row label (all found in caption/column).
MIN_COVERAGE_CONTEXT = 0.55

# How much each word of the measure counts:
WEIGHT_CONTENT = 1.0  # a word some row, caption or column uses
WEIGHT_UNKNOWN_SWEDISH = 0.8  # a Swedish word no table uses: still part of the measure asked for
WEIGHT_GENERIC = 0.35  # "andel", "antal", "totalt", month names: say little about the measure
WEIGHT_NUMBER = 0.2  # a bare number ("2" in "kvartal 2")
WEIGHT_UNKNOWN_ENGLISH = 0.15  # an English word no table uses (the glossary did not translate it)

# A word counts as found in a row, caption or column at this similarity (a word inside a compound).
FOUND = QUERY_INSIDE
# Row-label synonyms ("totalt" ~ "summa") are as good as an inflection.
SYNONYM = INFLECTION
# A word found only in the caption or column counts this much of its similarity.
CONTEXT_FACTOR = 0.6
# In the row label's own words, a generic one weighs this much (a content word weighs 1).
GENERIC_ROW_WORD = 0.5
# The share of the row label the measure accounts for adds this much at most.
PRECISION_WEIGHT = 0.25

# Bonuses for cells the question's hints point at, and penalties:
KIND_BONUS = 0.1  # the column is the kind of value asked for ("målvärdet")
COMPARATOR_BONUS = 0.05  # the cell has the comparator the question uses ("minst")
YEAR_BONUS = 0.15  # the column's year is the short year in the question ("år -28")
DOCUMENT_BONUS = 0.1  # the cell is in a document the question names
TEXT_CELL_PENALTY = 0.15  # text cells ("Ansvarig nämnd") and indicator names come after numbers
UNCERTAIN_PENALTY = 0.05  # a cell whose column was inferred from the spacing

# A word of the question names a document when it is this alike to a word of the document's names
# and no row uses it this closely.
DOCUMENT_NAME_MATCH = INFLECTION
_MIN_DOCUMENT_WORD = 5


@dataclass(frozen=True)
class CellHit:
    cell: Cell
    table: Table
    info: DocumentInfo
    score: float


@dataclass
class _Query:
    """What a measure asks for: weighted stems and the hints the question gives."""

    content: list[tuple[str, float]]
    kind_hint: str | None = None
    comparator_hint: str | None = None
    year_hint: int | None = None
    doc_hint: frozenset[str] = frozenset()

    @property
    def total_weight(self) -> float:
        return sum(w for _, w in self.content)


def _normalize_kind(kind: str | None) -> str | None:
    if kind is None:
        return None
    if not isinstance(kind, str):
        raise ValueError("Okänd värdetyp – ange mål, utfall, budget, plan, prognos eller avvikelse")
    k = kind.strip().lower()
    if not k:
        return None
    if k in KIND_ALIASES:
        return KIND_ALIASES[k]
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


def _normalize_limit(limit) -> int:
    try:
        return max(1, min(100, int(limit)))
    except (TypeError, ValueError) as exc:
        raise ValueError("limit måste vara ett heltal") from exc


def _year_hint(measure: str) -> int | None:
    """The short year a question names: "år -28" -> 2028."""
    m = SHORT_YEAR.search(measure.lower())
    if m and ("år" in m.group(0) or "year" in m.group(0)):
        return 2000 + int(m.group(1))
    return None


class TableStore(StoredTables):
    """The table store with its lookup; safe to share between threads."""

    def lookup(self, measure: str, year: int | None = None, kind: str | None = None,
               document: str | None = None, limit: int = 10) -> list[CellHit]:
        """Cells whose row matches `measure`, best first; `year`, `kind`, `document` filter."""
        if not isinstance(measure, str):
            raise ValueError("Måttet måste anges som text")
        if len(measure) > MAX_MEASURE_CHARS:
            raise ValueError(f"Måttet är för långt (högst {MAX_MEASURE_CHARS} tecken)")
        year = _normalize_year(year)
        kind = _normalize_kind(kind)
        limit = _normalize_limit(limit)
        files = self.resolve_document(document) if document else None
        if files is not None and not files:
            return []
        query = self._query_of(measure)
        if not query.content or all(q.isdigit() for q, _ in query.content):
            return []  # a measure needs a word; bare numbers are not looked up
        hits: list[CellHit] = []
        for e in self._entries:
            c = e.cell
            if files is not None and c.file not in files:
                continue
            if year is not None and not self._year_matches(c, year):
                continue
            if kind is not None and c.column_kind not in kinds_accepted(kind):
                continue
            score = _score(e, query, year)
            if score is not None:
                hits.append(CellHit(cell=c, table=self._tables[c.table_id],
                                    info=self.infos.get(c.file) or unknown_info(c.file), score=round(score, 4)))
        hits.sort(key=lambda h: (-h.score, h.cell.uncertain, h.cell.file, h.cell.line))
        return hits[:limit]

    def word_match(self, measure: str, cells: list[Cell]) -> list[float]:
        """How well each cell's row matches the measure's words, scored as `lookup` scores a hit but
        without its floors: a row found by meaning alone is told apart from one sharing no word."""
        query = self._query_of(measure[:MAX_MEASURE_CHARS])
        if not query.content or all(q.isdigit() for q, _ in query.content):
            return [0.0] * len(cells)
        entries = self.__dict__.get("_entry_of")
        if entries is None:
            entries = self._entry_of = {e.cell: e for e in self._entries}
        return [max(0.0, _score(entries[c], query, None, floors=False)) if c in entries else 0.0 for c in cells]

    def _query_of(self, measure: str) -> _Query:
        """The weighted stems of a measure and the hints (kind, comparator, year, document) it gives."""
        words = normalize_text(measure).split()
        english = looks_english(words)
        query = _Query(content=[], year_hint=_year_hint(measure))
        if english:
            translated = [GLOSSARY[w] for w in words if w in GLOSSARY]
            words = [w for w in words if w not in GLOSSARY] + [x for e in translated for x in normalize_text(e).split()]
        doc_hint: set[str] = set()
        for w in words:
            if w in COMPARATOR_WORDS:
                query.comparator_hint = COMPARATOR_WORDS[w]
                query.kind_hint = query.kind_hint or "mål"
                continue
            if w in STOPWORDS or YEAR_WORD.fullmatch(w):
                continue
            if w in KIND_WORDS:
                if query.kind_hint in (None, "mål") and query.comparator_hint is None:
                    query.kind_hint = KIND_WORDS[w]
                continue
            s = stem(w)
            named = self._document_word(s)
            if named:
                doc_hint.update(named)
                continue
            query.content.append((s, self._weight(w, s, english)))
        query.doc_hint = frozenset(doc_hint)
        return query

    def _weight(self, word: str, s: str, english: bool) -> float:
        if word.isdigit():
            return WEIGHT_NUMBER
        if word in GENERIC or s in generic_stems():
            return WEIGHT_GENERIC
        if not self._known(s):
            # in an English question a word no table uses says little about the row meant;
            # in a Swedish one it is part of the measure asked for and must count
            return WEIGHT_UNKNOWN_ENGLISH if english else WEIGHT_UNKNOWN_SWEDISH
        return WEIGHT_CONTENT

    def _known(self, s: str) -> bool:
        """Is the word (nearly) one that some row, caption or column uses?"""
        cache = self.__dict__.setdefault("_known_cache", {})
        if s not in cache:
            vocab = self.__dict__.get("_vocab")
            if vocab is None:
                vocab = set()
                for e in self._entries:
                    vocab.update(e.row_tokens)
                    vocab.update(e.ctx_tokens)
                self._vocab = vocab
            cache[s] = s in vocab or any(similarity(s, t) >= FOUND for t in vocab)
        return cache[s]

    def _document_word(self, s: str) -> set[str]:
        """Files named by a word ("hållbarhetsprogrammet") that is no row's word; else empty."""
        cache = self.__dict__.setdefault("_docword_cache", {})
        if s not in cache:
            named: set[str] = set()
            if len(s) >= _MIN_DOCUMENT_WORD:
                named = {f for f, names in self._doc_names.items()
                         if best_similarity(s, names) >= DOCUMENT_NAME_MATCH}
                if named and any(best_similarity(s, e.row_tokens) >= DOCUMENT_NAME_MATCH for e in self._entries):
                    named = set()
            cache[s] = named
        return cache[s]


def _row_similarity(q: str, e: Entry) -> tuple[float, str | None]:
    """The best row word for query stem `q`, with synonyms counted."""
    best_row, best_tok = 0.0, None
    syn = synonym_stems()
    for t in e.row_tokens:
        s = similarity(q, t)
        if s < SAME and q in syn and t in syn[q]:
            s = SYNONYM
        if s > best_row:
            best_row, best_tok = s, t
    return best_row, best_tok


def _coverage(e: Entry, query: _Query) -> tuple[float, bool, bool, set[str]]:
    """(weighted share of the measure found, a full-weight word in the row?, every word found somewhere?,
    the row words matched)."""
    got = 0.0
    row_hit = False
    all_found = True
    matched: set[str] = set()
    for q, w in query.content:
        best_row, best_tok = _row_similarity(q, e)
        if best_row >= FOUND:
            matched.add(best_tok)
            if w >= WEIGHT_CONTENT:
                row_hit = True
        best_ctx = best_similarity(q, e.ctx_tokens)
        if best_row < FOUND and best_ctx < FOUND and w >= WEIGHT_GENERIC:
            all_found = False
        got += w * max(best_row, CONTEXT_FACTOR * best_ctx)
    return got / query.total_weight, row_hit, all_found, matched


def _precision(e: Entry, matched: set[str]) -> float:
    """How much of the row label the measure accounts for (generic words weigh less)."""
    def weight(t: str) -> float:
        return 1.0 if t in e.row_content else GENERIC_ROW_WORD

    row_weight = sum(weight(t) for t in e.row_tokens)
    return sum(weight(t) for t in e.row_tokens if t in matched) / row_weight if row_weight else 0.0


def _score(e: Entry, query: _Query, year: int | None, floors: bool = True) -> float | None:
    """The cell's score for the query, or None when it is no hit."""
    c = e.cell
    coverage, row_hit, all_found, matched = _coverage(e, query)
    kind_hinted = bool(query.kind_hint and c.column_kind in kinds_accepted(query.kind_hint))
    comparator_hinted = bool(query.comparator_hint and c.comparator == query.comparator_hint)
    year_hinted = bool(query.year_hint and c.year == query.year_hint)
    # the measure must be in the row label, or every word of it in the row, caption or column;
    # a weaker match is considered only when the question's hints point at this cell
    floor = MIN_COVERAGE_HINTED if (kind_hinted or comparator_hinted or year_hinted) else MIN_SCORE
    if floors and (coverage < floor or not (row_hit or (coverage >= MIN_COVERAGE_CONTEXT and all_found))):
        return None
    score = coverage + PRECISION_WEIGHT * _precision(e, matched)
    if kind_hinted:
        score += KIND_BONUS
    if comparator_hinted:
        score += COMPARATOR_BONUS
    if year_hinted and year is None:
        score += YEAR_BONUS
    if query.doc_hint and c.file in query.doc_hint:
        score += DOCUMENT_BONUS
    if c.value is None:
        score -= TEXT_CELL_PENALTY
    if c.uncertain:
        score -= UNCERTAIN_PENALTY
    return score if score >= MIN_SCORE or not floors else None
