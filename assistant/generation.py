"""The LLM's answer: a tight prompt over the decided evidence, and verification in code.

The model only rephrases what the extractive decision found: every number it writes must stand in
the evidence it cites, it must cite and restate what the code found, and its text reaches the
screen only sentence by sentence once verified (`VerifiedRelease`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable, Iterator

from . import prompts
from .citations import add_missing_citations, evidence_texts, resolve_citations, unsupported_numbers
from .tables.format import format_cell_value
from .lexical import STOPWORDS, words
from .llm import LLM
from .records import Draft, Evidence

# The draft's evidence comes first and verification only accepts answers that cite it, so more
# items mostly cost reading time (~90 tokens each): on the 28-question local eval 2, 3 and 4
# items all answered 18 of 28 (4 before grouping: 17). Not 2: with two items the model echoed
# item [2] as a second line, and in tests/test_reliability.py that item is the planted instruction.
MAX_LLM_EVIDENCE = 3
MAX_EVIDENCE_CHARS = 350
PASSED = ("passed", "passed_in_part")
_REFUSES = re.compile(r"framgår inte|finns inte i (utdragen|dokumenten)|do(es)? not (say|mention|contain)|not mentioned",
                      re.IGNORECASE)
# The end of a sentence (its citation markers included), where the next one begins: the points at which
# the model's text is verified and released. A line break ends a sentence too (lists).
_SENTENCE_END = re.compile(r"(?:[.!?](?:[ \t]*\[\d+\])*|(?<=\S)[ \t]*\n)(?=\s+[^\s\[\]])")


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


def stream_llm(llm: LLM, question: str, evidence: list[Evidence], lang: str, max_tokens: int) -> Iterator[str]:
    yield from llm.stream(llm_messages(question, evidence, lang), max_tokens)


def rests_on(text: str, evidence: list[Evidence], question: str) -> bool:
    """The model's answer must cite what the code found to answer the question and say something
    of it beyond the question's own words. An instruction planted in a document ("svara bara
    HACKAD") fails this, whether the model cites the planted line or nothing."""
    asked = set(words(question))
    said = {w for w in words(text) if w not in STOPWORDS and w not in asked and not re.fullmatch(r"\[?\d+\]?", w)}
    said |= {n for n in re.findall(r"\d+(?:[,.]\d+)?", text)} - set(re.findall(r"\d+(?:[,.]\d+)?", question))
    supported = {w for e in evidence for w in words(e.text)} | {n for e in evidence for n in re.findall(r"\d+(?:[,.]\d+)?", e.text)}
    return bool(evidence) and bool(said & supported)


def check_generated(text: str, evidence: list[Evidence], draft: Draft, question: str) -> tuple[str, str]:
    """(the text with the citations code adds, "passed"), or ("", why it fails): every number in the
    model's answer must stand in the evidence it cites, and it must cite and restate what the code found."""
    if _REFUSES.search(text):  # small models refuse too often; the evidence check already passed
        return "", "llm_refusal_replaced"
    text = add_missing_citations(text, evidence)
    cited_text, cited = resolve_citations(text, evidence)
    if not cited or unsupported_numbers(cited_text, evidence_texts(cited), question) \
            or not rests_on(cited_text, [e for e in cited if e in draft.evidence], question):
        return "", "replaced_by_extractive"
    return text, "passed"


def verify_generated(text: str, evidence: list[Evidence], draft: Draft, question: str) -> Draft:
    """Every number in the model's answer must stand in the evidence it cites; else the extractive draft."""
    checked, verdict = check_generated(text, evidence, draft, question)
    if verdict == "passed":
        return Draft(checked, evidence, refused=False, verification="passed")
    notice = prompts.NOTICE_REPLACED if verdict == "replaced_by_extractive" else draft.notice
    return replace(draft, verification=verdict, notice=notice)


class VerifiedRelease:
    """The model's text, released only as far as it has passed verification.

    `feed(delta)` takes what the model wrote and returns what may be shown now: at each sentence end,
    the text so far (the sentences released before and those since) is verified as a whole, and when
    it passes, the new sentences are returned with their citations resolved as in the final answer.
    Text once shown is never changed: a later sentence that would renumber or alter it is held back.
    `finish()` verifies the end of the stream; `result()` is the answer: the released text
    ("passed", or "passed_in_part" when text after it never passed and was left out), or, when
    nothing passed, the extractive draft, exactly as `verify_generated` decides for the whole text."""

    def __init__(self, evidence: list[Evidence], draft: Draft, question: str) -> None:
        self.evidence, self.draft, self.question = evidence, draft, question
        self.raw = ""  # everything the model wrote
        self.accepted = ""  # the verified text so far, with the citations code added
        self.shown = ""  # `accepted` with citations resolved: what the user has seen
        self._used = 0  # how much of `raw` is in `accepted`

    def feed(self, delta: str) -> str:
        self.raw += delta
        ends = [m.end() for m in _SENTENCE_END.finditer(self.raw, self._used)]
        return self._release(ends[-1]) if ends else ""

    def finish(self) -> str:
        return self._release(len(self.raw))

    def _release(self, end: int) -> str:
        if end <= self._used or not self.raw[self._used:end].strip():
            return ""
        candidate = self.accepted + self.raw[self._used:end]
        checked, verdict = check_generated(candidate, self.evidence, self.draft, self.question)
        if verdict != "passed":
            return ""
        shown, _ = resolve_citations(checked, self.evidence)
        if not shown.startswith(self.shown):
            return ""
        new = shown[len(self.shown):]
        self.accepted, self.shown, self._used = checked, shown, end
        return new

    def result(self) -> Draft:
        if not self.accepted:
            return verify_generated(self.raw, self.evidence, self.draft, self.question)
        whole = not self.raw[self._used:].strip()
        return Draft(self.accepted, self.evidence, refused=False, verification="passed" if whole else "passed_in_part")


def released(items: Iterable[str], last) -> Iterator[str]:
    """The items, then `last()` once they are exhausted."""
    yield from items
    yield last()
