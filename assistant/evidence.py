"""Evidence: the sentences and table cells that may answer a question, each scored.

Pure functions over retrieved passages and table hits; what needs the whole build (the table
store, the semantic index, the line map) is in `finder.py`.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Mapping

from .chunking import chunk_sentences
from .lexical import SwedishTokenizer, words
from .question import QUESTION_NOISE, expected_answer, is_numeric_question, question_years
from .records import Context, Evidence
from .text import LIST_MARKER, NUMBER, YEAR, collapse_spaces

# A table read as prose runs headers and rows together; its values are answered from the table
# store instead, so its "sentences" weigh less.
TABLE_PROSE_FACTOR = 0.7
# A sentence without the year asked weighs this much of its coverage.
OTHER_YEAR_FACTOR = 0.6
DENSE_WEIGHT = 0.1  # how much the passage's cosine adds to a sentence's word coverage
RANK_PENALTY = 0.01  # per place of the passage in the retrieval ranking
AMOUNT_BONUS = 0.05  # a numeric question: a sentence stating an amount
BACKGROUND_WEIGHT = 0.5  # terms only in the earlier turn of a follow-up
AROUND_WEIGHT = 0.5  # a term in the heading or neighbouring sentences, not in the sentence itself

_ITEM = re.compile(rf"^\s*{LIST_MARKER}\s*")
_PLAIN_ITEM_CHARS = 70
# Numbers that describe what is counted, not how much: "antal/100 000 inv.", "65+", "16-84 år", "åk 9".
_DESCRIPTOR_NUMBER = re.compile(r"/\s*\d[\d\s]*|\b\d+\+|\b\d+\s*[-–]\s*\d+\s*år\b|\båk\s*\d+", re.IGNORECASE)
_MONTHS = ("januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|january|"
           "february|march|may|june|july|august|october")
_FULL_DATE = re.compile(rf"\b(?:19|20)\d\d-\d\d-\d\d\b|\b\d{{1,2}}(?::e|:a)? (?:{_MONTHS})\b", re.IGNORECASE)
_TIME = re.compile(rf"\b(?:19[89]\d|20[0-4]\d)\b|\b(?:{_MONTHS})\b|\b(?:våren|hösten|sommaren|vintern|"
                   r"årsskiftet|halvår|kvartal)\w*", re.IGNORECASE)
# a body or a person's role: "HSN", "regionstyrelsen", "hälso- och sjukvårdsnämnden", "regiondirektör"
_BODY = re.compile(r"(?-i:\b[A-ZÅÄÖ]{2,4}\b)|nämnd|styrelse|fullmäktige|direktör|ordförande|ansvarig", re.IGNORECASE)


class Scorer:
    """IDF-weighted coverage of the question's content words by a piece of text."""

    def __init__(self, tokenizer: SwedishTokenizer, document_frequency: dict[str, int], n_docs: int) -> None:
        self.tokenizer = tokenizer
        self.df = document_frequency
        self.n = max(n_docs, 1)

    def idf(self, token: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(token, 0)))

    def query_terms(self, question: str, background: str = "") -> dict[str, float]:
        """Content terms with IDF weights; terms only in `background` (an earlier turn) weigh less."""
        terms: dict[str, float] = {}
        for text, factor in ((background, BACKGROUND_WEIGHT), (question, 1.0)):
            content = [w for w in words(text) if w not in QUESTION_NOISE]
            for token in self.tokenizer.tokens(" ".join(content)):
                if token not in QUESTION_NOISE:
                    terms[token] = factor * self.idf(token)
        return terms

    def coverage(self, terms: dict[str, float], text: str, context_text: str = "") -> float:
        if not terms:
            return 0.0
        own = set(self.tokenizer.tokens(text))
        around = set(self.tokenizer.tokens(context_text)) if context_text else set()
        got = sum(w if t in own else AROUND_WEIGHT * w if t in around else 0.0 for t, w in terms.items())
        return got / sum(terms.values())


# --- what a piece of evidence states -------------------------------------------------------


def states_amount(text: str) -> bool:
    """A number other than a year or a descriptor: "6,2 procent", "1 500 miljoner", "35 tjänster"."""
    return bool(NUMBER.search(_DESCRIPTOR_NUMBER.sub(" ", YEAR.sub("", text))))


def states(kind: str, text: str) -> bool:
    """Whether a piece of evidence can answer a question of that kind."""
    if kind == "who":
        return bool(_BODY.search(text))
    if kind == "date":
        return bool(_FULL_DATE.search(text))
    if kind == "time":
        return bool(_TIME.search(text))
    if kind == "amount":
        return states_amount(text)
    return True


MIN_NAME_LETTERS = 4  # in shorter names one letter makes another name


def names_missing(names: set[str], evidence: list[Evidence], tokenizer: SwedishTokenizer) -> set[str]:
    """The names of the question (places, bodies) that no piece of the evidence or its document mentions."""
    said, said_words = set(), set()
    for ev in evidence:
        info = ev.info
        for text in (ev.text, ev.section, ev.caption, info.title, info.cite, info.author, *info.aliases):
            said.update(tokenizer.tokens(text or ""))
            said_words.update(words(text or ""))
    return {n for n in names if not set(tokenizer.tokens(n)) <= said and not _spelt_otherwise(n.lower(), said_words)}


def _spelt_otherwise(name: str, said_words: set[str]) -> bool:
    """A name the evidence spells with one letter changed: "Belt" in an English question is the
    documents' "Bält" (Fehmarn Bält), as a typo is the name it misspells."""
    if len(name) < MIN_NAME_LETTERS:
        return False
    return any(len(w) == len(name) and sum(a != b for a, b in zip(w, name)) <= 1 for w in said_words)


def prefer_answer_type(question: str, sentences: list[Evidence], ratio: float = 0.7, near: int = 2) -> list[Evidence]:
    """Among sentences nearly as good as the best, those that state what is asked for come first:
    "när?" wants a time, "hur många?" a number. A number must stand right by the best sentence
    (its next sentence); numbers elsewhere are too often about something else. The best is kept
    first when none fits."""
    kind = expected_answer(question)
    if not kind or not sentences:
        return sentences
    best = sentences[0]
    close = [s for s in sentences if s.score >= ratio * best.score]
    fitting = [s for s in close if states(kind, s.text)]
    if kind in ("amount", "who"):
        fitting = [s for s in fitting if s.info.file == best.info.file and abs(s.line_start - best.line_end) <= near]
    if not fitting or fitting[0] is close[0]:
        return sentences
    rest = [s for s in sentences if s not in fitting]
    return fitting + rest


# --- sentences -----------------------------------------------------------------------------


def rank_sentences(question: str, contexts: list[Context], scorer: Scorer, background: str = "") -> list[Evidence]:
    """Every sentence of the retrieved passages, scored by the question's words it and its
    surroundings cover."""
    terms = scorer.query_terms(question, background)
    years = question_years(question)
    numeric = is_numeric_question(question)
    ranked: list[Evidence] = []
    for rank, context in enumerate(contexts):
        heading = " ".join(context.chunk.section)
        sentences = chunk_sentences(context.chunk)
        for i, (sentence, first, last) in enumerate(sentences):
            neighbours = " ".join(s for s, _, _ in sentences[max(0, i - 1): i + 2])
            score = scorer.coverage(terms, sentence, heading + " " + neighbours)
            if years and not years & set(YEAR.findall(sentence)):
                score *= OTHER_YEAR_FACTOR
            if context.chunk.kind == "table":
                score *= TABLE_PROSE_FACTOR
            score += DENSE_WEIGHT * context.dense - RANK_PENALTY * rank
            if numeric and states_amount(sentence):
                score += AMOUNT_BONUS
            if sentence.endswith(":"):  # "År 2028 ska:" and list intros need what follows
                sentence, last = _with_following_items(sentence, last, sentences[i + 1:])
            page = context.chunk.page_start
            ranked.append(Evidence(sentence, context.info, context.chunk.section_label, first, last, page, score))
    ranked.sort(key=lambda e: -e.score)
    return ranked


def _with_following_items(sentence: str, last: int, following: list[tuple[str, int, int]],
                          max_items: int = 10, max_chars: int = 900) -> tuple[str, int]:
    """An intro ending in ":" plus the list items after it (or the one sentence after it)."""
    items = []
    for text, _, item_last in following[:max_items]:
        if items and not _ITEM.match(text):
            break
        items.append(text)
        last = item_last
        if len(" ".join(items)) > max_chars or not _ITEM.match(text):
            break
    return (f"{sentence} {' '.join(items)}" if items else sentence), last


def logical_lines(lines: Mapping[tuple[str, int], str], file: str, first: int, last: int) -> list[str]:
    """The source lines of a span with wrapped lines joined: a line continues when the next
    non-empty line starts in lower case ("Ca 140 personer" / "har sökt …"), or with a number after a
    line that ends in a word in lower case ("… och med" / "81,6 procents svarsfrekvens": tune +1, dev
    and rewrites unchanged, evals/out/lines2; after any other line a number stays apart, as a table
    row's values after its label do: joining those answered an unanswerable rewrite). Lines that each
    start with a capital are separate items, like the rows of an indicator list."""
    joined: list[str] = []
    for no in range(first, last + 1):
        text = (lines.get((file, no)) or "").strip()
        if not text:
            continue
        if joined and (text[0].islower() or joined[-1].endswith((",", "-", "–", "och"))
                       or text[0].isdigit() and joined[-1][-1].islower()):
            joined[-1] += " " + text
        else:
            joined.append(text)
    return joined


def list_items_after(lines: Mapping[tuple[str, int], str], file: str, last: int, max_items: int = 12,
                     max_chars: int = 900, max_lead: int = 3, max_gap: int = 6,
                     plain: bool = False) -> tuple[list[str], int]:
    """The bullet or numbered lines that follow a list's intro in the source, read from the line map
    so a list cut by a chunk boundary is still whole. Up to `max_lead` lines of prose or a short
    heading ("Riktningsmål") may stand between the intro and the first item. After an intro that
    ends in ":" (`plain`), short lines without a bullet are items too ("finns bland annat:" /
    "Nybyggnation Bussdepå Norrängen")."""
    items: list[str] = []
    lead = gap = 0
    no = last
    while len(items) < max_items and gap <= max_gap:
        no += 1
        text = (lines.get((file, no)) or "").strip()
        if not text:
            gap += 1
            continue
        gap = 0
        if _ITEM.match(text) and len(_ITEM.sub("", text)) > 1:
            items.append(_ITEM.sub("", text).strip())
            last = no
        elif plain and len(text) <= _PLAIN_ITEM_CHARS and text[0].isupper() and not text.endswith((".", ":")):
            items.append(text)
            last = no
        elif items and text[0].islower():
            items[-1] += " " + text  # an item wrapped over two lines
            last = no
        elif not items and lead < max_lead:
            lead += 1
        else:
            break
        if sum(len(i) for i in items) > max_chars:
            break
    return items, last


def with_list(ev: Evidence, items: list[str], last: int) -> Evidence:
    """The intro sentence with its items, citing the lines they span."""
    text = ev.text.rstrip() + " " + " ".join(f"• {i.rstrip(' .;')}" for i in items)
    return replace(ev, text=text, line_end=max(ev.line_end, last))


# --- the piece of a long sentence that answers ---------------------------------------------

# Where a long "sentence" (a list intro with its items, a paragraph the splitter kept whole, a
# row of bullets) divides into pieces: a bullet, a dash item, a sentence end before a capital.
_ITEM_BREAK = r"\s*•\s*|\s+[-–]\s+(?=[A-ZÅÄÖ])"
_PIECE_BREAK = re.compile(rf"{_ITEM_BREAK}|(?<=[.;!?])\s+(?=[A-ZÅÄÖ\"“])")
MIN_PIECE_CHARS = 40  # shorter pieces ("Riktningsmål", "2021 HSN") belong with the piece after them


# A piece still too long to read as an answer is cut at its colons and semicolons too.
_CLAUSE_BREAK = re.compile(r"(?<=[:;])\s+")
LONG_PIECE_CHARS = 300


def list_items(text: str) -> int:
    """How many bullets and dash items the text runs together."""
    return len(re.findall(_ITEM_BREAK, text))


def pieces(text: str) -> list[str]:
    """The text cut where a reader would: bullets, dash items, sentence ends, and in a piece still
    too long, colons and semicolons; short pieces joined to the next one."""
    parts = [p.strip() for p in _PIECE_BREAK.split(text) if p and p.strip()]
    return joined_short([c for p in parts for c in (_CLAUSE_BREAK.split(p) if len(p) > LONG_PIECE_CHARS else [p])])


# A table row's trailing cells are codes, years and amounts ("2021 HSN", "2025-2027 RUN", "Inom ram"):
# no word longer than this. "Sjukhusvård 16" (a line of a table of contents) is a heading and a page.
CELL_WORD_LETTERS = 4


def _cells_only(piece: str) -> bool:
    return all(len(w) <= CELL_WORD_LETTERS for w in words(piece))


def joined_short(parts: list[str], to_next: bool = True) -> list[str]:
    """Pieces shorter than MIN_PIECE_CHARS joined to the piece after them (an intro, "År 2028 ska:"),
    or with `to_next` False, when they are a row's trailing cells ("2021 HSN" after its task), once to
    the piece before them; a short last piece goes to the one before it."""
    joined: list[str] = []
    extended = False  # the last piece has had short ones joined to it already
    carry = ""
    for part in parts:
        part = f"{carry} {part}".strip() if carry else part
        carry = ""
        if len(part) >= MIN_PIECE_CHARS:
            joined.append(part)
            extended = False
        elif not to_next and joined and not extended and _cells_only(part):
            joined[-1] = f"{joined[-1]} {part}"
            extended = True
        else:
            carry = part
    if carry:
        if joined:
            joined[-1] = f"{joined[-1]} {carry}"
        else:
            joined.append(carry)
    return joined


def lines_of(piece: str, lines: Mapping[tuple[str, int], str], file: str, first: int, last: int) -> tuple[int, int]:
    """The source lines a piece of a span stands on: from the line holding its first words to the first
    line by which all of it has been read (or, when it was joined from separate parts, the line holding
    its last words); the span itself when its first words cannot be found."""
    def line(no: int) -> str:
        return collapse_spaces(lines.get((file, no)) or "")

    piece = collapse_spaces(piece)
    head, tail = " ".join(piece.split()[:4]), " ".join(piece.split()[-3:])
    start = next((no for no in range(first, last + 1) if head and head in line(no)), None)
    if start is None:
        return first, last
    read = ""
    for no in range(start, last + 1):
        read = f"{read} {line(no)}".strip()
        if piece in read:
            return start, no
    end = next((no for no in range(last, start - 1, -1) if tail and tail in line(no)), start)
    return start, max(start, end)


# --- cells ---------------------------------------------------------------------------------


def cell_evidence(hits, quotes: dict[tuple[str, int], str]) -> list[Evidence]:
    """Table hits as evidence, each quoting its source line."""
    evidence = []
    for hit in hits:
        cell, table = hit.cell, hit.table
        quote = quotes.get((cell.file, cell.line), cell.value_text)
        section = " > ".join(filter(None, (table.caption, cell.row)))
        evidence.append(Evidence(quote, hit.info, section, cell.line, cell.line, cell.page, hit.score,
                                 cell=cell, caption=table.caption))
    return evidence


def with_gaps(signals: list[dict[str, float]]) -> None:
    """Adds how far each candidate lies behind the question's best candidate in meaning and in
    words: a cosine of 0.82 is a good match for one question and a poor one for another."""
    for name in ("meaning", "lexical"):
        best = max((s[name] for s in signals), default=0.0)
        for s in signals:
            s[f"{name}_gap"] = best - s[name]
