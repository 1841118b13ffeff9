"""From evidence to a cited answer: evidence selection, extractive composition, LLM answers,
citation resolution and number verification. Refusal is decided here, in code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Iterator, Mapping

from . import prompts
from .chunking import chunk_sentences
from .lexical import QUOTED_TERM, URL, SwedishTokenizer, words
from .llm import LLM
from .records import Cell, Citation, Context, DocumentInfo
from .tables.format import format_cell_value

_NUMBER = re.compile(r"(?<![\w,.])[-−–]?\d{1,3}(?:[ \u00a0]\d{3})+(?:[,.]\d+)?(?![\w])|(?<![\w,.])[-−–]?\d+(?:[,.]\d+)?(?![\w])")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
_YEAR_RANGE = re.compile(r"\b(?:19|20)\d\d\s*[-–]\s*(?:(?:19|20)\d\d|\d\d)\b")
_SHORT_YEAR = re.compile(r"(?:\bår|\byear|\bbudgetår)\s*[-–'’](\d{2})\b", re.IGNORECASE)
_ITEM = re.compile(r"^\s*(?:[•\-–·▪*]|\d+[.)])\s*")
_ENGLISH_WORDS = {"what", "which", "who", "how", "is", "are", "the", "of", "does", "did", "many", "much",
                  "target", "about", "when", "where", "why", "for", "and", "according", "value", "year",
                  "to", "in", "on", "by", "up", "make", "must", "be", "do", "has", "have", "was", "were", "will",
                  "should", "this", "that", "with", "from", "its", "their", "there"}
_SWEDISH_WORDS = {"vad", "vilka", "vilken", "vem", "hur", "är", "och", "för", "det", "som", "enligt", "många",
                  "mycket", "när", "var", "varför", "om", "målvärdet", "året", "av", "till", "i", "på", "ska"}
# Question words that carry no topic; they must not make a passage look relevant.
_QUESTION_NOISE = {
    "vad", "vilk", "vilken", "vilket", "vilka", "vem", "hur", "stor", "stort", "många", "mycket", "finn",
    "finns", "står", "sägs", "säger", "enligt", "dokument", "dokumenten", "region", "regionen", "kronoberg",
    "kronobergs", "what", "which", "who", "how", "many", "much", "does", "say", "says", "according",
    "document", "documents", "kronoberg's", "regional", "värde", "värdet", "ange", "beskriv", "berätt",
}
NUMERIC_CUES = re.compile(
    r"målvärde|mål(?:et|en)?\b|\bår\s*[-–]\d\d\b|utfall|budget|mnkr|mkr|miljon|procent|%|hur många|hur stor|hur mycket|andel|antal|"
    r"ram|prognos|resultat|kostnad|intäkt|skattesats|target|how many|how much|share|percent|amount|"
    r"outcome|forecast|value|\b20\d\d\b",
    re.IGNORECASE,
)




def detect_language(text: str) -> str:
    # Swedish terms quoted in an English question ("(försörjningskvot)") do not make it Swedish
    tokens = words(QUOTED_TERM.sub(" ", text))
    english = sum(t in _ENGLISH_WORDS for t in tokens)
    swedish = sum(t in _SWEDISH_WORDS for t in tokens) + sum(bool(re.search(r"[åäö]", t)) for t in tokens)
    return "en" if english > swedish else "sv"


def is_numeric_question(text: str) -> bool:
    return bool(NUMERIC_CUES.search(text))


TABLE_PROSE_FACTOR = 0.7
_LIST_QUESTION = re.compile(
    r"^(?:vilka|vilken typ av|vad ska|vad innebär|nämn|räkna upp|which|what are|what were|what do|list|name)\b"
    r"|\b(?:vilka|which)\b", re.IGNORECASE)


def is_list_question(text: str) -> bool:
    return bool(_LIST_QUESTION.search(text))


_NAME = re.compile(r"(?<=\s)[A-ZÅÄÖ][a-zåäöé]{3,}(?:[-–][A-ZÅÄÖ][a-zåäöé]+)?")
_NOT_NAMES = {"alliance", "march", "april", "june", "region", "budget", "what", "which", "according"}


_AMOUNT_QUESTION = re.compile(
    r"\b(hur (många|stor|stora|stort|hög|höga|högt|mycket|lång)|vad kostar|how (many|much|large|high)|"
    r"vilket (värde|antal)|what (value|number)|vad (blev|var|är) (utfallet|värdet|antalet|andelen|nivån))\b",
    re.IGNORECASE)


def asks_for_amount(question: str) -> bool:
    return bool(_AMOUNT_QUESTION.search(question))


# Numbers that describe what is counted, not how much: "antal/100 000 inv.", "65+", "16-84 år", "åk 9".
_DESCRIPTOR_NUMBER = re.compile(r"/\s*\d[\d\s]*|\b\d+\+|\b\d+\s*[-–]\s*\d+\s*år\b|\båk\s*\d+", re.IGNORECASE)


def states_amount(text: str) -> bool:
    """A number other than a year or a descriptor: "6,2 procent", "1 500 miljoner", "35 tjänster"."""
    return bool(_NUMBER.search(_DESCRIPTOR_NUMBER.sub(" ", _YEAR.sub("", text))))


_MONTHS = ("januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|january|"
           "february|march|may|june|july|august|october")
_FULL_DATE = re.compile(rf"\b(?:19|20)\d\d-\d\d-\d\d\b|\b\d{{1,2}}(?::e|:a)? (?:{_MONTHS})\b", re.IGNORECASE)
_TIME = re.compile(rf"\b(?:19[89]\d|20[0-4]\d)\b|\b(?:{_MONTHS})\b|\b(?:våren|hösten|sommaren|vintern|"
                   r"årsskiftet|halvår|kvartal)\w*", re.IGNORECASE)
_DATE_QUESTION = re.compile(r"\b(?:vilket|vilken|what|which) (?:datum|dag|date|day)\b", re.IGNORECASE)
_WHEN_QUESTION = re.compile(r"^(?:\w+ )?(?:när|when)\b|\b(?:vilket år|vilken månad|what year|which year|"
                            r"what month|sedan när|since when)\b", re.IGNORECASE)


_WHO_QUESTION = re.compile(r"\b(?:vem|vilken nämnd|vilka nämnder|who)\b", re.IGNORECASE)
# a body or a person's role: "HSN", "regionstyrelsen", "hälso- och sjukvårdsnämnden", "regiondirektör"
_BODY = re.compile(r"(?-i:\b[A-ZÅÄÖ]{2,4}\b)|nämnd|styrelse|fullmäktige|direktör|ordförande|ansvarig", re.IGNORECASE)


def expected_answer(question: str) -> str:
    """What kind of answer the question asks for: "date", "time", "amount", "who", or "" (anything)."""
    if _WHO_QUESTION.search(question):
        return "who"
    if _DATE_QUESTION.search(question):
        return "date"
    if _WHEN_QUESTION.search(question):
        return "time"
    if asks_for_amount(question):
        return "amount"
    return ""


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


def logical_lines(lines: Mapping[tuple[str, int], str], file: str, first: int, last: int) -> list[str]:
    """The source lines of a span with wrapped lines joined: a line continues when the next
    non-empty line starts in lower case ("Ca 140 personer" / "har sökt …"). Lines that each start
    with a capital are separate items, like the rows of an indicator list."""
    joined: list[str] = []
    for no in range(first, last + 1):
        text = (lines.get((file, no)) or "").strip()
        if not text:
            continue
        if joined and (text[0].islower() or joined[-1].endswith((",", "-", "–", "och"))):
            joined[-1] += " " + text
        else:
            joined.append(text)
    return joined


def values_in(question: str) -> set[float]:
    """Amounts a question quotes ("driftsramen på 5 853 mnkr", "'Utfall 2023' som 6 %"), years aside."""
    from .tables import parse_number

    text = _YEAR_RANGE.sub(" ", _SHORT_YEAR.sub(" ", question))  # "2025–27", "år -28"
    values = {parse_number(m) for m in _NUMBER.findall(_YEAR.sub(" ", text))}
    return {abs(v) for v in values if v is not None}


def names_in(question: str) -> set[str]:
    """Capitalised words inside a question ("Region Skånes", "Företagsfabriken"): places, bodies,
    companies. If the evidence never mentions one, it is about something else."""
    return {n for n in _NAME.findall(question) if n.lower() not in _NOT_NAMES}


def names_missing(names: set[str], evidence: list[Evidence], tokenizer: SwedishTokenizer) -> set[str]:
    said = set()
    for ev in evidence:
        info = ev.info
        for text in (ev.text, ev.section, ev.caption, info.title, info.cite, info.author, *info.aliases):
            said.update(tokenizer.tokens(text or ""))
    return {n for n in names if not set(tokenizer.tokens(n)) <= said}


def question_years(text: str) -> set[str]:
    """Years in a question, including the short form "år -28"."""
    return set(_YEAR.findall(text)) | {f"20{m}" for m in _SHORT_YEAR.findall(text)}


@dataclass
class Evidence:
    """One citable piece: a sentence of a passage or a table cell."""

    text: str
    info: DocumentInfo
    section: str
    line_start: int
    line_end: int
    page: int | None
    score: float
    cell: Cell | None = None
    caption: str = ""

    def citation(self, n: int) -> Citation:
        return Citation(n=n, file=self.info.file, source_file=self.info.source_file, title=self.info.title,
                        cite=self.info.cite, kind_label=self.info.kind_label, section=self.section,
                        line_start=self.line_start, line_end=self.line_end, page=self.page, quote=self.text)


@dataclass
class Draft:
    text: str
    evidence: list[Evidence]
    refused: bool
    verification: str = "not_needed"
    notice: str = ""
    cells: list[Cell] = field(default_factory=list)


# --- evidence -----------------------------------------------------------------------------

class Scorer:
    """IDF-weighted coverage of the question's content words by a piece of text."""

    def __init__(self, tokenizer: SwedishTokenizer, document_frequency: dict[str, int], n_docs: int) -> None:
        self.tokenizer = tokenizer
        self.df = document_frequency
        self.n = max(n_docs, 1)

    def idf(self, token: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(token, 0)))

    def query_terms(self, question: str, background: str = "") -> dict[str, float]:
        """Content terms with IDF weights; terms only in `background` (an earlier turn) weigh half."""
        terms: dict[str, float] = {}
        for text, factor in ((background, 0.5), (question, 1.0)):
            content = [w for w in words(text) if w not in _QUESTION_NOISE]
            for token in self.tokenizer.tokens(" ".join(content)):
                if token not in _QUESTION_NOISE:
                    terms[token] = factor * self.idf(token)
        return terms

    def coverage(self, terms: dict[str, float], text: str, context_text: str = "") -> float:
        if not terms:
            return 0.0
        own = set(self.tokenizer.tokens(text))
        around = set(self.tokenizer.tokens(context_text)) if context_text else set()
        got = sum(w if t in own else 0.5 * w if t in around else 0.0 for t, w in terms.items())
        return got / sum(terms.values())


def split_sentences(context: Context) -> list[tuple[str, int, int]]:
    """Sentences of a passage with the source lines they span."""
    return chunk_sentences(context.chunk)


def rank_sentences(question: str, contexts: list[Context], scorer: Scorer, background: str = "") -> list[Evidence]:
    terms = scorer.query_terms(question, background)
    years = question_years(question)
    numeric = is_numeric_question(question)
    ranked: list[Evidence] = []
    for rank, context in enumerate(contexts):
        heading = " ".join(context.chunk.section)
        sentences = split_sentences(context)
        for i, (sentence, first, last) in enumerate(sentences):
            neighbours = " ".join(s for s, _, _ in sentences[max(0, i - 1): i + 2])
            score = scorer.coverage(terms, sentence, heading + " " + neighbours)
            if years and not years & set(_YEAR.findall(sentence)):
                score *= 0.6
            if context.chunk.kind == "table":  # a table read as prose runs headers and rows together;
                score *= TABLE_PROSE_FACTOR     # its values are answered from the table store instead
            score += 0.1 * context.dense - 0.01 * rank
            if numeric and states_amount(sentence):
                score += 0.05
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


_PLAIN_ITEM_CHARS = 70


def with_list(ev: Evidence, items: list[str], last: int) -> Evidence:
    """The intro sentence with its items, citing the lines they span."""
    text = ev.text.rstrip() + " " + " ".join(f"• {i.rstrip(' .;')}" for i in items)
    return replace(ev, text=text, line_end=max(ev.line_end, last))


def cell_evidence(hits, quotes: dict[tuple[str, int], str]) -> list[Evidence]:
    evidence = []
    for hit in hits:
        cell, table = hit.cell, hit.table
        quote = quotes.get((cell.file, cell.line), cell.value_text)
        section = " > ".join(filter(None, (table.caption, cell.row)))
        evidence.append(Evidence(quote, hit.info, section, cell.line, cell.line, cell.page, hit.score,
                                 cell=cell, caption=table.caption))
    return evidence


# --- extractive answers -------------------------------------------------------------------

def compose_table_answer(cells: list[Evidence], lang: str) -> Draft:
    """Values grouped by document; more than one document means the documents disagree or differ."""
    by_doc: dict[str, list[Evidence]] = {}
    for ev in cells:
        by_doc.setdefault(ev.info.file, []).append(ev)
    lines, used = [], []
    if len(by_doc) > 1 and len({format_cell_value(e.cell) for e in cells}) > 1:
        lines.append(prompts.CONFLICT_INTRO[lang])
    for group in by_doc.values():
        info = group[0].info
        kind = info.kind_label_en if lang == "en" and info.kind_label_en else info.kind_label
        by_row: dict[str, list[Evidence]] = {}
        for ev in group:  # one measure's values side by side: "Sjukfrånvaro: 5,4 % (Utfall 2023), 5 % (Mål 2025)"
            by_row.setdefault(ev.cell.row, []).append(ev)
        rows = []
        for row, evs in by_row.items():
            values = []
            for ev in evs:
                used.append(ev)
                value = format_cell_value(ev.cell)
                if ev.cell.uncertain:
                    value += " " + prompts.UNCERTAIN_CELL[lang]
                values.append(prompts.TABLE_VALUE[lang].format(column=ev.cell.column, value=value, n=len(used)))
            rows.append(prompts.TABLE_ROW[lang].format(row=row, values=", ".join(values)))
        lines.append(prompts.ACCORDING_TO[lang].format(cite=info.cite, kind=kind) + " " + "; ".join(rows) + ".")
    return Draft("\n".join(lines), used, refused=False, cells=[e.cell for e in used])


_SPACED_URL = re.compile(r"\s*" + URL.pattern)
URL_BLOCK = 2  # a sentence followed by two or more addresses carries a reference list, not an answer


def without_url_block(text: str) -> str:
    """The sentence without the run of web addresses the sustainability programme puts after many
    of its sentences (its footnotes' link lists); one address of its own stays."""
    return _SPACED_URL.sub("", text).strip() if len(URL.findall(text)) >= URL_BLOCK else text


def compose_sentence_answer(sentences: list[Evidence], lang: str, start: int = 1) -> Draft:
    lines = []
    for n, ev in enumerate(sentences, start=start):
        kind = ev.info.kind_label_en if lang == "en" and ev.info.kind_label_en else ev.info.kind_label
        lines.append(prompts.ACCORDING_TO[lang].format(cite=ev.info.cite, kind=kind) + f" {without_url_block(ev.text)} [{n}]")
    return Draft("\n".join(lines), sentences, refused=False)


def combine(first: Draft, second: Draft) -> Draft:
    """Two drafts as one answer; the second's markers must already be numbered after the first's."""
    return Draft(first.text + "\n" + second.text, first.evidence + second.evidence, refused=False,
                 cells=first.cells + second.cells)


def refusal(nearest: list[Evidence], lang: str) -> Draft:
    text = prompts.REFUSAL[lang]
    return Draft(text, nearest, refused=True)


# --- LLM answers --------------------------------------------------------------------------

# The draft's evidence comes first and verification only accepts answers that cite it, so more
# items mostly cost reading time (~90 tokens each): on the 28-question local eval 2, 3 and 4
# items all answered 18 of 28 (4 before grouping: 17). Not 2: with two items the model echoed
# item [2] as a second line, and in tests/test_reliability.py that item is the planted instruction.
MAX_LLM_EVIDENCE = 3
MAX_EVIDENCE_CHARS = 350


def by_document(evidence: list[Evidence]) -> list[Evidence]:
    """The evidence grouped by document in order of first appearance, each group in its own order,
    so that the prompt names each document once and the first item stays first."""
    order: dict[str, list[Evidence]] = {}
    for ev in evidence:
        order.setdefault(ev.info.file, []).append(ev)
    return [ev for group in order.values() for ev in group]


def _evidence_text(ev: Evidence) -> str:
    text = ev.text
    if ev.cell is not None:
        text = f"{ev.cell.row}, {ev.cell.column}: {format_cell_value(ev.cell)}"
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS].rsplit(" ", 1)[0] + " …"
    return text


def llm_messages(question: str, evidence: list[Evidence], lang: str) -> list[dict[str, str]]:
    """A tight prompt: the model reads about 56 tokens a second here, so every line costs.
    A document's name and kind label (up to ~30 tokens) stand once above its items, not per item;
    pass the evidence through `by_document` so that each document is one group."""
    lines: list[str] = []
    source = None
    for n, ev in enumerate(evidence[:MAX_LLM_EVIDENCE], start=1):
        if ev.info.file != source:
            source = ev.info.file
            lines.append(prompts.EVIDENCE_SOURCE.format(cite=ev.info.cite, kind=ev.info.kind_label))
        lines.append(prompts.EVIDENCE_ITEM.format(n=n, text=_evidence_text(ev)))
    system = prompts.SYSTEM + (prompts.SYSTEM_EN_SUFFIX if lang == "en" else "")
    user = prompts.USER.format(evidence="\n".join(lines), question=question)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def add_missing_citations(text: str, evidence: list[Evidence]) -> str:
    """Small models often drop the markers: cite the evidence that holds the answer's numbers,
    or the first item, in code. Nothing is cited that does not contain what it supports."""
    text = re.sub(r"\s*\[(?:n|N|nummer)\]", "", text)
    if _MARKER.search(text):
        return text
    numbers = numbers_in(text)
    cited = []
    for number in sorted(numbers):
        n = next((i for i, ev in enumerate(evidence, start=1) if number in numbers_in(" ".join(evidence_texts([ev])))), None)
        if n is None:
            return text  # an unsupported number: leave uncited, verification will refuse it
        if n not in cited:
            cited.append(n)
    if not cited and evidence:
        cited = [1]
    return text.rstrip() + " " + "".join(f"[{n}]" for n in cited)


def stream_llm(llm: LLM, question: str, evidence: list[Evidence], lang: str, max_tokens: int) -> Iterator[str]:
    yield from llm.stream(llm_messages(question, evidence, lang), max_tokens)


def normalise_number(text: str) -> str:
    text = text.replace("\u00a0", "").replace(" ", "").replace("−", "-").replace("–", "-").replace(".", ",")
    return text.lstrip("-")


def numbers_in(text: str) -> set[str]:
    return {normalise_number(m.group(0)) for m in _NUMBER.finditer(_MARKER.sub(" ", text))}


def unsupported_numbers(answer: str, evidence_texts: list[str], question: str) -> set[str]:
    supported = numbers_in(question)
    for text in evidence_texts:
        supported |= numbers_in(text)
    return {n for n in numbers_in(answer) if n not in supported and n.rstrip("0").rstrip(",") not in supported}


def resolve_citations(text: str, evidence: list[Evidence]) -> tuple[str, list[Evidence]]:
    """Keep markers that point at evidence, renumber them 1..k in order of use, drop invented ones."""
    order: list[int] = []

    def renumber(match: re.Match) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(evidence):
            return ""
        if n not in order:
            order.append(n)
        return f"[{order.index(n) + 1}]"

    cleaned = _MARKER.sub(renumber, text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, [evidence[n - 1] for n in order]


def evidence_texts(evidence: list[Evidence]) -> list[str]:
    out = []
    for ev in evidence:
        out.append(ev.text)
        if ev.cell is not None:
            out.append(ev.cell.value_text)
    return out
