"""Swedish-aware BM25: Snowball stemming, definite-form folding and compound splitting.

Snowball leaves "sjukfrånvaron" alone, and BM25 cannot see that "sjukfrånvaroredovisning"
contains "sjukfrånvaro". So every word is (1) stemmed, (2) stripped of a definite "-n" after a
vowel, and (3) split into head and tail when both parts are words of the corpus vocabulary, and
all of these go into the token list. The vocabulary is saved with the index so queries are
tokenised the same way.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A term in parentheses or quotes ("(låneram)", "'Utfall 2023'"): in an English question, Swedish words
# the asker quoted.
# A web address ("https://…", "www.…"): the sustainability programme follows many sentences with a
# run of them (its footnotes' link lists).
URL = re.compile(r"(?:https?://|www\.)\S+")
QUOTED_TERM = re.compile(r"\(([^)]*)\)|[\"“”'‘’]([^\"“”'‘’]{1,80})[\"“”'‘’]")
_MIN_PART = 4
_LINKING = ("s", "e", "a", "u", "o")  # fogemorfem: "utveckling-s-strategi"

STOPWORDS = frozenset(
    """alla allt att av blev bli blir de dem den denna deras dess dessa det detta dig din ditt
    du där då efter ej eller en er era ert ett från för ha hade han hans har henne hennes hon
    honom hur här i icke ingen inom inte jag ju kan kunde man med mellan men mig min mina mitt
    mot mycket ni nu när någon något några och om oss på samma sedan sig sin sina sitt själv
    skulle som så sådan till under upp ut utan vad var vara varför varit varje vars vem vi vid
    vilka vilken vilket vår våra vårt än är åt över the a an of in on for to and or is are what
    which who how""".split()
)
# Words a question wraps around the measure it asks for ("värdet", "enligt", "regionen", "jämfört",
# "what does"): beside STOPWORDS they name no table row, so the table lookup drops them too. (BM25 keeps
# them: it was tuned with STOPWORDS alone.)
QUESTION_STOPWORDS = STOPWORDS | frozenset(
    """ska skall stor stort stora hög högt låg lågt många säger sa finns fanns gäller värdet värde värden
    siffran siffra siffrorna uppgår uppgick enligt ange visa vänligen tack region regionen regionens
    kronoberg kronobergs får gälla gällande förslag förslaget belopp beloppet ca cirka redovisar
    redovisas anges angivet år året åren stämmer överens densamma densamme detsamma jämfört jämför
    jämförelse skiljer skillnad respektive dokumenten ändrats ändrat
    agree agrees compare compared differ differs same documents do does much many was were""".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("swedish")
    except ImportError:  # pragma: no cover - PyStemmer is a pinned dependency
        return None


def stemmer_name() -> str:
    """Which stemmer `normalise_word` uses: saved stems record it, so a reader can tell they still match."""
    return "snowball" if _stemmer() else "none"


@lru_cache(maxsize=200_000)
def normalise_word(word: str) -> str:
    stemmer = _stemmer()
    stem = stemmer.stemWord(word) if stemmer else word
    if len(stem) > 6 and stem[-1] == "n" and stem[-2] in "aeiouyåäö":
        stem = stem[:-1]
    return stem


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


# Bump when tokens() changes (stopwords, normalisation, compound splitting): BM25 is rebuilt.
TOKENIZER_VERSION = 1


class SwedishTokenizer:
    """Tokenises with a vocabulary of normalised corpus words used for compound splitting."""

    def __init__(self, vocabulary: set[str] | None = None) -> None:
        self.vocabulary: set[str] = vocabulary or set()

    @classmethod
    def fit(cls, texts: list[str]) -> "SwedishTokenizer":
        vocab = {normalise_word(w) for t in texts for w in words(t) if len(w) >= _MIN_PART and not w.isdigit()}
        return cls(vocab)

    def tokens(self, text: str) -> list[str]:
        out: list[str] = []
        for w in words(text):
            if w in STOPWORDS:
                continue
            out.append(normalise_word(w))
            out.extend(self.split_compound(w))
        return out

    @lru_cache(maxsize=100_000)
    def split_compound(self, word: str) -> tuple[str, ...]:
        """The longest known head with a known tail, or both long: "sjukfrånvaro|redovisning"."""
        if len(word) < 2 * _MIN_PART or word.isdigit():
            return ()
        for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            head_norm = normalise_word(head)
            if head_norm not in self.vocabulary:
                continue
            tail_norm = normalise_word(tail)
            if tail_norm in self.vocabulary or (len(head) >= 6 and len(tail) >= 6):
                return (head_norm, tail_norm)
            if tail[0] in _LINKING and normalise_word(tail[1:]) in self.vocabulary and len(tail) > _MIN_PART:
                return (head_norm, normalise_word(tail[1:]))
        return ()

    def __hash__(self) -> int:  # lru_cache on a method needs a hashable self
        return id(self)


class BM25Index:
    """bm25s over our own token lists; saved beside the vector store in the index directory."""

    def __init__(self, retriever, tokenizer: SwedishTokenizer, ids: list[str]) -> None:
        self._retriever = retriever
        self.tokenizer = tokenizer
        self.ids = ids

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> "BM25Index":
        import bm25s

        tokenizer = SwedishTokenizer.fit(texts)
        corpus_tokens = [tokenizer.tokens(t) or ["_"] for t in texts]
        retriever = bm25s.BM25()
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever, tokenizer, ids)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(directory / "bm25s"))
        (directory / "bm25_meta.json").write_text(
            json.dumps({"ids": self.ids, "vocabulary": sorted(self.tokenizer.vocabulary)}, ensure_ascii=False),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, directory: Path) -> "BM25Index":
        import bm25s

        meta = json.loads((directory / "bm25_meta.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(directory / "bm25s"))
        return cls(retriever, SwedishTokenizer(set(meta["vocabulary"])), meta["ids"])

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        vocab = self._retriever.vocab_dict
        tokens = [t for t in self.tokenizer.tokens(query) if t in vocab]
        if not tokens or not self.ids:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._retriever.retrieve([tokens], k=k, show_progress=False)
        hits = []
        for index, score in zip(np.asarray(docs[0]).tolist(), np.asarray(scores[0]).tolist()):
            if score > 0:
                hits.append((self.ids[int(index)], float(score)))
        return hits
