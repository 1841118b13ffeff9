"""The documents' own terms for the words people use: a search engine's synonym sets.

`corpus/synonyms.toml` lists each term of the documents with the everyday Swedish and English
words a user may write instead ("sjukfrånvaro": "sjukskrivningar", "sick leave"). It was written
from the documents alone, never from evaluation questions, and the region's staff may edit it.
A question that contains one of those words is searched with the documents' term as well: in BM25,
in table-row matching and in sentence scoring. Words are compared by their normalised stems
(`lexical.normalise_word`), so "sjukskrivningarna" finds "sjukskrivningar".
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .lexical import STOPWORDS, normalise_word, words

SYNONYMS_FILE = "synonyms.toml"


class SynonymsError(ValueError):
    """The synonym file cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Synonyms:
    # (the variant's stems, the documents' term), longest variants first
    variants: tuple[tuple[tuple[str, ...], str], ...] = ()

    @classmethod
    def load(cls, path: Path) -> "Synonyms":
        """The synonyms of `path`; none when the file does not exist."""
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SynonymsError(f"Synonymfilen {path} kan inte läsas: {exc}") from None
        return cls.from_terms(_entries(data, path))

    @classmethod
    def from_terms(cls, entries: list[tuple[str, list[str]]]) -> "Synonyms":
        """A variant is kept when its content words carry it ("över eller under budget" is only
        "budget" once its small words are gone: another term's word, not a synonym) and when it is
        not a term of its own."""
        own_terms = {_stems(term) for term, _ in entries}
        variants = {}
        for term, others in entries:
            for variant in others:
                stems = _stems(variant)
                if stems and stems not in own_terms and 2 * len(stems) >= len(words(variant)):
                    variants.setdefault(stems, term)
        ordered = sorted(variants.items(), key=lambda v: -len(v[0]))
        return cls(tuple(ordered))

    def terms_for(self, text: str) -> list[str]:
        """The documents' terms for the everyday or English words in `text`, in order of first mention.
        A variant is found where its content words stand together in the text, in its order."""
        stems = _stems(text)
        found: dict[int, str] = {}
        taken: set[int] = set()
        for variant, term in self.variants:
            at = _find(stems, variant, taken)
            if at is not None:
                taken.update(range(at, at + len(variant)))
                found.setdefault(at, term)
        return list(dict.fromkeys(found[i] for i in sorted(found)))

    def stems(self) -> set[str]:
        """The stems of every everyday and English word the map lists: words a user may write."""
        return {stem for variant, _ in self.variants for stem in variant}

    def expand(self, text: str) -> str:
        """`text` with the documents' terms for its words added, for searching."""
        terms = [t for t in self.terms_for(text) if t.lower() not in text.lower()]
        return f"{text} {' '.join(terms)}" if terms else text


def _entries(data: dict, path: Path) -> list[tuple[str, list[str]]]:
    entries = []
    for n, entry in enumerate(data.get("term", []), start=1):
        term = entry.get("term") if isinstance(entry, dict) else None
        others = [*entry.get("sv", []), *entry.get("en", [])] if isinstance(entry, dict) else None
        if not isinstance(term, str) or not term.strip() or not all(isinstance(o, str) for o in others or [None]):
            raise SynonymsError(f"Synonymfilen {path}: post {n} ska ha term = \"…\" och listor sv och en av ord.")
        entries.append((term.strip(), others))
    return entries


def _stems(text: str) -> tuple[str, ...]:
    """The content words' stems: "mat som slängs" and "mat slängs" are the same phrase."""
    return tuple(normalise_word(w) for w in words(text) if w not in STOPWORDS)


def _find(stems: tuple[str, ...], variant: tuple[str, ...], taken: set[int]) -> int | None:
    n = len(variant)
    for i in range(len(stems) - n + 1):
        if stems[i:i + n] == variant and not taken & set(range(i, i + n)):
            return i
    return None
