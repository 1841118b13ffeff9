"""Which documents a question names, read the way people write names.

Each document has names (`aliases` in corpus/manifest.toml: its title, kind and the everyday and
English names people use for it). A name is found in a question word by word, not as an exact
substring, so that the forms people type still count:

- inflected and compound forms: "budgeten för 2021" is the name "budget 2021", "hållbarhetsprogrammets"
  the name "hållbarhetsprogram" (the stemmer, or the name's word followed by an ending);
- shortenings: "hållbarhetsprog" for "hållbarhetsprogrammet" (a word of at least MIN_PREFIX letters
  and MIN_PREFIX_SHARE of the name's word that begins it);
- typos: one letter wrong, missing or extra in a word of at least MIN_TYPO_LETTERS letters;
- compound shortenings: "hållbprog" for "hållbarhetsprogram" (the word's start and a later part of it);
- compounds ending in a name: "oppositionsalliansen" holds "alliansen" (Swedish puts the head last);
- two-digit years: "budget 21" for "budget 2021".

A name given to several documents ("alliansen" wrote Budget 2021 and, as Allians för Kronoberg, the
2025–27 proposal) names the one that speaks of the year the question asks about (its period and the
years of its tables' columns), and none when the years do not settle it: Budget 2021 plans for 2023
and the proposal reports 2023's outcome, so "alliansen … 2023" names neither.

The name's content words must follow each other in the question in order, with at most MAX_GAP other
words between two of them ("budget för år 2021"). Stopwords are skipped on both sides. The same
matches take the names out of a text (`without`), so that "Budget 2021" names a document and is not
read as the year asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from .lexical import STOPWORDS, normalise_word
from .text import YEAR, collapse_spaces

MIN_PREFIX = 6  # "hållbarhetsprog" shortens "hållbarhetsprogram"; "budg" shortens too many words
# ... and keeps most of the word: "budget" is a word of its own, not a shortening of "budgetförslag"
MIN_PREFIX_SHARE = 0.6
# A name's word followed by an inflection is still that word ("budgeten", "programmets"), followed by
# another word it is not ("budgetram")
ENDINGS = frozenset("s n t a e en et ens ets na nas ar er or arna erna orna arnas ernas ornas".split())
MIN_TYPO_LETTERS = 7  # below this one changed letter makes another word ("budget" / "budgets" is an ending)
MAX_GAP = 1  # "budget för år 2021": one other word may stand between two words of a name
# "hållbprog": the first MIN_ABBREVIATION_START letters of the name's word, then MIN_ABBREVIATION_PART
# letters standing together later in it
MIN_ABBREVIATION_START = 4
MIN_ABBREVIATION_PART = 3
MIN_HEAD = 6  # a compound's head that counts as the name: "oppositions|alliansen"; not "års|plan"
MIN_MODIFIER = 3
MATCH_CACHE = 256  # texts whose matches are kept (a question's texts recur within its turn)

_TOKEN = re.compile(r"\d+|[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class _Token:
    text: str  # lower case
    stem: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    found = []
    for m in _TOKEN.finditer(text):
        word = m.group().lower()
        if word in STOPWORDS:
            continue
        found.append(_Token(word, word if word.isdigit() else normalise_word(word), m.start(), m.end()))
    return found


def _one_typo(a: str, b: str) -> bool:
    """a and b differ by one letter changed, added or dropped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def same_word(asked: _Token, name: _Token) -> bool:
    return _same_word(asked.text, asked.stem, name.text, name.stem)


@lru_cache(maxsize=65536)  # a few hundred names' words against a question's: the pairs recur
def _same_word(asked_text: str, asked_stem: str, name_text: str, name_stem: str) -> bool:
    asked, name = _Token(asked_text, asked_stem, 0, 0), _Token(name_text, name_stem, 0, 0)
    if asked.text.isdigit() or name.text.isdigit():
        # "budget 21" names "budget 2021"; other numbers must be the name's own
        return asked.text == name.text or (len(asked.text) == 2 and len(name.text) == 4
                                           and name.text.endswith(asked.text))
    if asked.stem == name.stem or asked.text == name.text:
        return True
    if asked.text.startswith(name.text) and _is_ending(asked.text[len(name.text):], name.text):
        return True
    if len(asked.text) >= max(MIN_PREFIX, MIN_PREFIX_SHARE * len(name.text)) and name.text.startswith(asked.text):
        return True
    if _abbreviates(asked.text, name.text) or _compound_head(asked.text, name.text):
        return True
    return min(len(asked.text), len(name.text)) >= MIN_TYPO_LETTERS and _one_typo(asked.text, name.text)


def _abbreviates(asked: str, name: str) -> bool:
    """"hållbprog" = "hållb" + "prog", both of "hållbarhetsprogram" in that order."""
    if len(asked) < MIN_PREFIX or len(asked) >= len(name):
        return False
    for cut in range(MIN_ABBREVIATION_START, len(asked) - MIN_ABBREVIATION_PART + 1):
        head, rest = asked[:cut], asked[cut:]
        if name.startswith(head) and rest in name[cut + 1:]:
            return True
    return False


def _compound_head(asked: str, name: str) -> bool:
    """"oppositionsalliansen" ends in the name's word "alliansen" (or the word and an ending)."""
    if len(name) < MIN_HEAD:
        return False
    at = asked.find(name, MIN_MODIFIER)
    return at >= MIN_MODIFIER and _is_ending(asked[at + len(name):], name)


def _is_ending(rest: str, word: str) -> bool:
    """Nothing, or an inflection, after the word; "program|m|et" doubles the last consonant first."""
    if rest and word and rest[0] == word[-1] and word[-1] not in "aeiouyåäö":
        rest = rest[1:] if rest[1:] in ENDINGS else rest
    return not rest or rest in ENDINGS


class DocumentNames:
    """The names of one build's documents, matched in questions; `years` (file -> the years the
    document speaks of) settles a name that several documents share."""

    def __init__(self, names: Mapping[str, Iterable[str]], years: Mapping[str, set[int]] | None = None) -> None:
        self._files = list(names)
        owners: dict[str, list[str]] = {}
        for file, names_ in names.items():
            for name in names_:
                owners.setdefault(name.lower(), []).append(file)
        self._names = [(tuple(files), name, _tokens(name)) for name, files in owners.items()]
        self._names = [(f, n, t) for f, n, t in self._names if t]
        # longer names first: "alliansens budget 2021" before "budget 2021"
        self._names.sort(key=lambda entry: -len(entry[2]))
        self._years = dict(years or {})
        # A question's texts are read several times per turn (named, then taken out of its focus, its
        # standalone form and the cell lookup): the last texts' matches are kept (thread-safe).
        self._matches = lru_cache(maxsize=MATCH_CACHE)(self._match)

    def named(self, text: str) -> tuple[str, ...]:
        """The files the text names, in the order of the manifest's documents."""
        matches = [files for files, _ in self._matches(text)]
        found = {files[0] for files in matches if len(files) == 1}
        asked = {int(y) for y in YEAR.findall(text)}
        for files in matches:
            if len(files) > 1 and not found & set(files):
                fitting = [f for f in files if asked & self._years.get(f, set())]
                found |= set(fitting[:1]) if len(fitting) == 1 else set()
        return tuple(f for f in self._files if f in found)

    def speak_of(self, files: Iterable[str], year: int) -> bool:
        """Whether one of the documents speaks of the year (its period, its tables' columns); a document
        whose years are not known is taken to."""
        return any(file not in self._years or year in self._years[file] for file in files)

    def without(self, text: str) -> str:
        """The text with the names it holds taken out, with the owner's genitive before one
        ("alliansens budgetförslag")."""
        spans = sorted(span for _, span in self._matches(text))
        if not spans:
            return text
        kept, at = [], 0
        for start, end in spans:
            if start < at:
                continue
            owner = re.search(r"\b\w+s\s+$", text[at:start])
            kept.append(text[at:start - len(owner.group())] if owner else text[at:start])
            at = end
        kept.append(text[at:])
        return collapse_spaces(" ".join(kept))

    def _match(self, text: str) -> tuple[tuple[tuple[str, ...], tuple[int, int]], ...]:
        """Every name found in the text: the files it names and its span."""
        asked = _tokens(text)
        matches = []
        for files, _, name in self._names:
            span = _find(asked, name)
            if span is not None:
                matches.append((files, span))
        return tuple(matches)


def _find(asked: list[_Token], name: list[_Token]) -> tuple[int, int] | None:
    """The character span of the name's words in the question, in order, each within MAX_GAP words
    of the one before."""
    for first, token in enumerate(asked):
        if not same_word(token, name[0]):
            continue
        at, ok = first, True
        for word in name[1:]:
            nxt = next((j for j in range(at + 1, min(at + 2 + MAX_GAP, len(asked))) if same_word(asked[j], word)), None)
            if nxt is None:
                ok = False
                break
            at = nxt
        if ok:
            return asked[first].start, asked[at].end
    return None
