"""The words of a table lookup: normalised and stemmed words, the names of value kinds ("målvärdet",
"utfallet"), comparator words, generic words, and whether a question is English.

Stemming and stopwords are the project's (`assistant.lexical`), so a row label is read the way the
passages are; the English words of measures are in `assistant.glossary`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..glossary import ROW_WORDS as GLOSSARY
from ..lexical import QUESTION_STOPWORDS, normalise_word

KIND_ALIASES = {
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
KIND_WORDS = {w: k for w, k in KIND_ALIASES.items() if w not in ("budgeterat", "planerat", "avvik")}
KIND_WORDS.update({"budgeteras": "budget", "budgeterad": "budget", "budgeterade": "budget",
                   "budgetår": "budget", "budgetåret": "budget", "planåret": "plan", "planår": "plan",
                   "prognostiseras": "prognos", "målsättning": "mål", "målsättningen": "mål",
                   "target": "mål", "goal": "mål"})
# words that ask for the situation now: what has been reached so far is an outcome, not a target
NOW_WORDS = ("redan", "hittills", "idag", "already", "currently", "today")
# "hur punktlig var den faktiskt?", "what did it actually get?": what happened, not what was planned
# (not "faktiska": "den faktiska sysselsättningsgraden" is a measure, dev q003)
ACTUAL_WORDS = ("faktiskt", "actually")
KIND_WORDS.update({w: "utfall" for w in NOW_WORDS + ACTUAL_WORDS})
SHORT_YEAR = re.compile(r"(?:\b(?:år|året|budgetår|budgetåret|planår|planåret|year)\s*)?[-–'’](\d{2})(?!\d)")
# kinds that satisfy a requested kind ("utfall" is also a full-year "bokslut")
KIND_ACCEPTS = {"utfall": {"utfall", "bokslut"}, "bokslut": {"bokslut", "utfall"}}

# kinds a question asks for strictly: "utfallet" is not answered by a target, nor "målet" by an outcome.
# ("budget" and "plan" also name documents, "Budget 2021", so they do not count here.)
_STRICT_KINDS = {"mål", "utfall", "bokslut", "prognos"}

STOPWORDS = QUESTION_STOPWORDS
# Common words that say little about which measure is meant: they count, but weakly.
GENERIC = frozenset("""andel antal procent summa totalt total totala mnkr kr tkr miljoner kronor
    per st nivå nivån period perioden jan feb mar mars apr april maj jun juni jul juli aug augusti sep
    september okt oktober nov november dec december januari februari kvartal kvartalet q1 q2 q3 q4
    helår helåret""".split())
# comparator words in a question: a hint that a target ("mål") is meant
COMPARATOR_WORDS = {"minst": "minst", "lägst": "minst", "max": "max", "högst": "max", "maximalt": "max",
                    "minimum": "minst", "maximum": "max", "least": "minst", "most": "max"}
# words that stand for each other in row labels
_SYNONYMS = {"total": ("summa",), "totalt": ("summa",), "totala": ("summa",), "summa": ("total",)}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
YEAR_WORD = re.compile(r"(?:19|20)\d\d")

_ENGLISH_MARKERS = frozenset("the what which how much many does did is are was were of for to in by and "
                             "according should be have has its their".split())
_SWEDISH_MARKERS = frozenset("och är vad hur för av med det som vilken vilket vilka var blev ska enligt "
                             "i på till om har".split())


def kinds_accepted(kind: str) -> set[str]:
    """The column kinds that answer a request for `kind`."""
    return KIND_ACCEPTS.get(kind, {kind})


def requested_kinds(question: str) -> set[str]:
    """The value kinds a question asks for by name, each with the kinds that satisfy it."""
    kinds = {KIND_WORDS[w] for w in normalize_text(question).split() if w in KIND_WORDS}
    return {k for kind in kinds & _STRICT_KINDS for k in kinds_accepted(kind)}


def stem(word: str) -> str:
    return normalise_word(word)


def normalize_text(text: str) -> str:
    """Lower case, punctuation out, one space between words ("Sjukfrånvaron (%)" -> "sjukfrånvaron")."""
    return " ".join(w.lower() for w in _WORD.findall(text or ""))


def measure_tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    """Stemmed content words of a text (years dropped; "HME" stays a word)."""
    out = []
    for w in normalize_text(text).split():
        if not keep_stopwords and w in STOPWORDS:
            continue
        if YEAR_WORD.fullmatch(w):
            continue
        out.append(stem(w))
    return out


def looks_english(words: list[str]) -> bool:
    en = sum(1 for w in words if w in _ENGLISH_MARKERS)
    sv = sum(1 for w in words if w in _SWEDISH_MARKERS or any(ch in w for ch in "åäö"))
    return en > sv


@lru_cache(maxsize=1)
def synonym_stems() -> dict[str, frozenset[str]]:
    return {stem(k): frozenset(stem(v) for v in vs) for k, vs in _SYNONYMS.items()}


@lru_cache(maxsize=1)
def generic_stems() -> frozenset[str]:
    return frozenset(stem(w) for w in GENERIC)
