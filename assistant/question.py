"""The question analysis: one frozen record per turn, built before anything is retrieved.

Closed vocabularies (years, value kinds, document names, the language) are read by pattern; the
open part, the topic, is matched by meaning later (semantic index, calibrated models). The
classifiers themselves live where they were fitted (`answer.py`, `tables/vocabulary.py`); this module
runs each of them once, on one form of the question, and records what it found.

    analysis = analyse(question, rewrite, document_aliases)
    analysis.lang, analysis.asks, analysis.years, analysis.kinds, analysis.documents
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .answer import detect_language, expected_answer, is_list_question, is_numeric_question, question_years


@dataclass(frozen=True)
class QuestionAnalysis:
    question: str  # as asked (cleaned)
    standalone: str  # made standalone from the conversation when it is a follow-up
    focus: str  # what this turn asks, without the earlier turn's background
    lang: str  # sv | en
    asks: str  # value | list | date | time | who | anything
    numeric: bool  # a value may answer it (table cells are looked up)
    years: tuple[str, ...]
    kinds: tuple[str, ...]  # value kinds named: mål, utfall, bokslut, prognos, budget, plan
    documents: tuple[str, ...]  # files the question names ("delårsrapporten", "budget proposal")
    follow_up: bool

    def to_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def documents_named(text: str, aliases: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    lowered = text.lower()
    return tuple(f for f, names in aliases.items() if any(a.lower() in lowered for a in names))


def asks_for(focus: str) -> str:
    kind = expected_answer(focus)
    if kind == "amount":
        return "value"
    if kind:
        return kind
    return "list" if is_list_question(focus) else "anything"


def analyse(question: str, standalone: str, focus: str, aliases: Mapping[str, tuple[str, ...]],
            without_names=lambda text: text) -> QuestionAnalysis:
    """`without_names` takes document names out of a text ("Budget 2021" names a document, not a year)."""
    from .tables import requested_kinds

    documents = documents_named(question, aliases) or documents_named(standalone, aliases)
    asked = without_names(focus) or focus
    return QuestionAnalysis(
        question=question,
        standalone=standalone,
        focus=focus,
        lang=detect_language(question),
        asks=asks_for(focus),
        numeric=is_numeric_question(without_names(standalone)),
        years=tuple(sorted(question_years(asked))),
        kinds=tuple(sorted(requested_kinds(asked))),
        documents=documents,
        follow_up=standalone != question,
    )
