"""Spelling: a question's word the documents never use, one letter from a word they do use, is read
as that word ("sjuksöterskor" -> "sjuksköterskor", "trafiknämden" -> "trafiknämnden").

Users type fast; a misspelt word matches no passage, no table row and no synonym, and the question is
refused or answered from the wrong passage. The documents' own words (and the synonym map's) are the
dictionary: a word is left alone when it, or its stem, is in them ("sjukvårdsnämndens" has the stem of
"sjukvårdsnämnden"), so an inflection the documents lack is never changed. Only long words are
corrected: in short ones one letter makes another word ("kallar" / "Kalmar", "snitt" / "sitt"). An
English question is left as it is: its words are not the documents' language.

    speller = Speller.from_texts(chunk_texts, known_stems)
    speller.correct("hur mycket kostade hyrpersonl?")  # "hur mycket kostade hyrpersonal?"
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .lexical import QUESTION_STOPWORDS, normalise_word

# Fitted by reading which words of the dev split and its rewrites would change (evals/questions.jsonl,
# evals/paraphrases.jsonl; 2026-12-02): from 7 letters on, the changes were typos
# ("skateintäkter", "hållbarhetsprogramet") or another form of the same word ("marknadsvärde"); at 5-6
# letters a third were other words ("lånat" -> "långt", "snitt" -> "sitt", "partier" -> "parter").
MIN_LETTERS = 7
_LETTERS = "abcdefghijklmnopqrstuvwxyzåäöé"
_WORD = re.compile(r"[a-zåäöé]+", re.IGNORECASE)


@dataclass(frozen=True)
class Speller:
    counts: dict[str, int]  # the documents' words and how often they occur
    stems: frozenset[str]  # the stems of those words and of the synonym map's words
    # a word one letter from a document's word is at most one letter longer than the longest: a
    # longer one is left alone without building its neighbours (a 20 000-letter "word" took 23 GB and 78 s)
    longest: int = 0

    @classmethod
    def from_texts(cls, texts: Iterable[str], known_stems: Iterable[str] = ()) -> "Speller":
        counts = Counter(w for text in texts for w in _WORD.findall(text.lower()))
        stems = {normalise_word(w) for w in counts} | set(known_stems)
        return cls(dict(counts), frozenset(stems), max(map(len, counts), default=0))

    def correct(self, question: str) -> str:
        """The question with each misspelt word replaced by the documents' most frequent word one
        letter away (a letter wrong, missing, extra or two swapped); capitals of the first letter kept."""
        return _WORD.sub(lambda m: self._word(m.group(0)), question)

    def _word(self, word: str) -> str:
        low = word.lower()
        if not MIN_LETTERS <= len(low) <= self.longest + 1 or low in self.counts or low in QUESTION_STOPWORDS:
            return word
        if normalise_word(low) in self.stems:
            return word
        candidates = [w for w in _one_letter_away(low) if w in self.counts]
        if not candidates:
            return word
        best = max(candidates, key=lambda w: (self.counts[w], w))
        return best.capitalize() if word[0].isupper() else best


def _one_letter_away(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deleted = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaced = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserted = {a + c + b for a, b in splits for c in _LETTERS}
    return (deleted | swapped | replaced | inserted) - {word}
