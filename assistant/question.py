"""The question: cleaned, checked, and analysed into one frozen record per turn before anything is
retrieved.

Closed vocabularies (years, value kinds, document names, the language, the kind of answer asked
for) are read by pattern here, once; the open part, the topic, is matched by meaning later (the
semantic index and the calibrated models in `evidence`). Every classifier of the question lives in
this module, with the word list it uses.

    analysis = analyse(question, standalone, focus, DocumentNames(...))  # document_names.py
    analysis.lang, analysis.asks, analysis.years, analysis.kinds, analysis.documents
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from . import prompts
from .document_names import DocumentNames
from .lexical import QUOTED_TERM, words
from .tables import parse_number, requested_kinds
from .tables.lines import unit_from_text
from .tables.vocabulary import NOW_WORDS
from .text import INVISIBLE_CHARS, NUMBER, YEAR, YEAR_RANGE, collapse_spaces

# --- intake --------------------------------------------------------------------------------


def clean_question(question: str) -> str:
    """Invisible characters out, other control characters as spaces, spacing collapsed."""
    question = INVISIBLE_CHARS.sub("", question or "")
    return collapse_spaces("".join(c if unicodedata.category(c)[0] != "C" else " " for c in question))


def input_problem(question: str, limit: int) -> str | None:
    """The message for a question that cannot be asked (empty, too long, no text), or None."""
    if not question:
        return prompts.INPUT_EMPTY
    if len(question) > limit:
        return prompts.INPUT_TOO_LONG.format(n=len(question), limit=limit)
    if not any(c.isalnum() for c in question):
        return prompts.INPUT_NO_TEXT
    return None


# --- language ------------------------------------------------------------------------------

_ENGLISH_WORDS = {"what", "which", "who", "how", "is", "are", "the", "of", "does", "did", "many", "much",
                  "target", "about", "when", "where", "why", "for", "and", "according", "value", "year",
                  "to", "in", "on", "by", "up", "make", "must", "be", "do", "has", "have", "was", "were", "will",
                  "should", "this", "that", "with", "from", "its", "their", "there"}
_SWEDISH_WORDS = {"vad", "vilka", "vilken", "vem", "hur", "är", "och", "för", "det", "som", "enligt", "många",
                  "mycket", "när", "var", "varför", "om", "målvärdet", "året", "av", "till", "i", "på", "ska"}


def detect_language(text: str) -> str:
    # Swedish terms quoted in an English question ("(försörjningskvot)") do not make it Swedish
    tokens = words(QUOTED_TERM.sub(" ", text))
    english = sum(t in _ENGLISH_WORDS for t in tokens)
    swedish = sum(t in _SWEDISH_WORDS for t in tokens) + sum(bool(re.search(r"[åäö]", t)) for t in tokens)
    return "en" if english > swedish else "sv"


# --- what is asked for ---------------------------------------------------------------------

# Question words that carry no topic; they must not make a passage look relevant.
QUESTION_NOISE = {
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
_LIST_QUESTION = re.compile(
    r"^(?:vilka|vilken typ av|vad ska|vad innebär|nämn|räkna upp|which|what are|what were|what do|list|name)\b"
    r"|\b(?:vilka|which)\b", re.IGNORECASE)
_AMOUNT_QUESTION = re.compile(
    r"\b(hur (många|stor|stora|stort|hög|höga|högt|mycket|lång)|vad kostar|how (many|much|large|high)|"
    r"vilket (värde|antal)|what (value|number)|vad (blev|var|är) (utfallet|värdet|antalet|andelen|nivån))\b",
    re.IGNORECASE)
_DATE_QUESTION = re.compile(r"\b(?:vilket|vilken|what|which) (?:datum|dag|date|day)\b", re.IGNORECASE)
_WHEN_QUESTION = re.compile(r"^(?:\w+ )?(?:när|when)\b|\b(?:vilket år|vilken månad|what year|which year|"
                            r"what month|sedan när|since when)\b", re.IGNORECASE)
_WHO_QUESTION = re.compile(r"\b(?:vem|vilken nämnd|vilka nämnder|who)\b", re.IGNORECASE)
# "… och vad blev resultatet?", "… jämfört med riket?": a question that asks two things
_TWO_PARTS = re.compile(r"\b(?:och (?:vad|hur|vilk\w*|när|vem)|jämfört med|respektive|compared (?:with|to)|"
                        r"and (?:what|how|which|when|who)|versus)\b", re.IGNORECASE)
# "hur har sjukfrånvaron förändrats?", "how much did it increase?": a change between two values
_CHANGE_QUESTION = re.compile(r"\b(?:förändr\w*|utvecklats|utvecklingen|skillnad\w*|skiljer|ökat|ökning\w*|minskat|"
                              r"minskning\w*|change[sd]?|differen\w*|increase[sd]?|decrease[sd]?|developed|trend)\b",
                              re.IGNORECASE)
# "är det helårssiffran?", "was that the total investment in 2023?"
_ASKS_FULL_YEAR = re.compile(r"\b(?:helår\w*|hela (?:året|20\d\d)|full[- ]year|whole year|total \w+ (?:in|for) 20\d\d)\b",
                             re.IGNORECASE)


def is_numeric_question(text: str) -> bool:
    return bool(NUMERIC_CUES.search(text))


def is_list_question(text: str) -> bool:
    return bool(_LIST_QUESTION.search(text))


def asks_for_amount(question: str) -> bool:
    return bool(_AMOUNT_QUESTION.search(question))


# "hur många sms-livräddare?" counts things; an amount of money does not answer it, unless the
# question counts money ("hur många miljoner?")
_COUNT_QUESTION = re.compile(r"\b(?:hur många|how many)\b", re.IGNORECASE)
# the words of money beside the tables' units (`unit_from_text`: tkr, mnkr, mdkr, kr)
_MONEY_WORDS = re.compile(r"\b\w*(?:kronor|pengar)\b|\b(?:miljoner|miljarder|million|billion|sek|money|kostar|cost\w*)\b",
                          re.IGNORECASE)


def is_money(text: str) -> bool:
    return bool(unit_from_text(text) or _MONEY_WORDS.search(text))


def counts_things(question: str) -> bool:
    return bool(_COUNT_QUESTION.search(question)) and not is_money(_COUNT_QUESTION.sub(" ", question))


def asks_two_things(question: str) -> bool:
    return bool(_TWO_PARTS.search(question))


def asks_change(question: str) -> bool:
    return bool(_CHANGE_QUESTION.search(question))


def asks_about_now(question: str) -> bool:
    """"hur mycket har de redan?", "what is it today?": the situation now, not a year's target."""
    return any(w in NOW_WORDS for w in words(question))


def asks_full_year(question: str) -> bool:
    return bool(_ASKS_FULL_YEAR.search(question))


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


def asks_for(focus: str) -> str:
    kind = expected_answer(focus)
    if kind == "amount":
        return "value"
    if kind:
        return kind
    return "list" if is_list_question(focus) else "anything"


# --- years, values, names ------------------------------------------------------------------

_SHORT_YEAR = re.compile(r"(?:\bår|\byear|\bbudgetår)\s*[-–'’](\d{2})\b", re.IGNORECASE)
_NAME = re.compile(r"(?<=\s)[A-ZÅÄÖ][a-zåäöé]{3,}(?:[-–][A-ZÅÄÖ][a-zåäöé]+)?")
_NOT_NAMES = {"alliance", "march", "april", "june", "region", "budget", "what", "which", "according"}


def question_years(text: str) -> set[str]:
    """Years in a question, including the short form "år -28"."""
    return set(YEAR.findall(text)) | {f"20{m}" for m in _SHORT_YEAR.findall(text)}


def values_in(question: str) -> set[float]:
    """Amounts a question quotes ("driftsramen på 5 853 mnkr", "'Utfall 2023' som 6 %"), years aside."""
    text = YEAR_RANGE.sub(" ", _SHORT_YEAR.sub(" ", question))  # "2025–27", "år -28"
    values = {parse_number(m) for m in NUMBER.findall(YEAR.sub(" ", text))}
    return {abs(v) for v in values if v is not None}


def names_in(question: str) -> set[str]:
    """Capitalised words inside a question ("Region Skånes", "Företagsfabriken"): places, bodies,
    companies. If the evidence never mentions one, it is about something else."""
    return {n for n in _NAME.findall(question) if n.lower() not in _NOT_NAMES}


# --- the analysis --------------------------------------------------------------------------


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


def analyse(question: str, standalone: str, focus: str, names: DocumentNames) -> QuestionAnalysis:
    """`names` finds the documents a text names and takes them out ("Budget 2021" names a document,
    not a year)."""
    documents = names.named(question) or names.named(standalone)
    without_names = names.without
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
